"""Plans against real venvs, real pip and real uv and a local HTTP index: what a plan says
is what sync then does, as pip itself lists the environment before and after."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from envcore.errors import InvalidSpecError, PlanOutdatedError, RequirementsError
from envcore.ops import (
    Context,
    IndexOptions,
    Plan,
    PlannedChange,
    apply_plan,
    find_uv,
    plan_install,
    plan_sync,
    plan_uninstall,
    plan_upgrade,
    sync,
)
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import pip, pip_list_json
from tests.wheelmaker import make_project, write_wheel

BACKENDS = ["pip", "uv"]

#: name -> [(version, requires)] on the test index.
PUBLISHED: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "alpha": [("1.0", ()), ("1.1", ()), ("2.0", ())],
    "beta": [("1.0", ("alpha>=1.0",)), ("2.0", ("alpha>=2.0",))],
    "delta": [("1.0", ()), ("2.0", ())],
    "epsilon": [("1.0", ("zeta",))],
    "zeta": [("1.0", ()), ("2.0", ())],
    "kappa": [("1.0", ("lam",))],
    "lam": [("1.0", ())],
    "stray": [("1.0", ("stray-dep",))],
    "stray-dep": [("1.0", ())],
    "setuptools": [("1.0", ()), ("2.0", ())],
    "wheel": [("1.0", ()), ("2.0", ())],
}

#: mismatch (alpha), satisfied and kept (beta), downgrade (delta), missing with a dependency
#: the resolver pulls in (epsilon -> zeta), missing with a dependency already installed
#: (kappa -> lam, which must not be removed), untracked with its own dependency (stray).
REQUIREMENTS = "alpha==2.0\nbeta>=1.0\ndelta==1.0\nepsilon\nkappa\n"
INSTALLED = ["alpha==1.0", "beta==1.0", "delta==2.0", "lam==1.0", "stray==1.0", "setuptools==1.0"]
EXPECTED = [
    ("alpha", "upgrade", "1.0", "2.0"),
    ("delta", "downgrade", "2.0", "1.0"),
    ("epsilon", "install", None, "1.0"),
    ("kappa", "install", None, "1.0"),
    ("stray", "remove", "1.0", None),
    ("stray-dep", "remove", "1.0", None),
    ("zeta", "install", None, "2.0"),
]


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    files = tmp_path_factory.mktemp("plan-index")
    state = IndexState()
    for name, releases in PUBLISHED.items():
        for version, requires in releases:
            state.publish(write_wheel(files, name, version, requires=requires))
    with serve_index(state) as url:
        yield url


@pytest.fixture(scope="module")
def index(index_url: str) -> IndexOptions:
    return IndexOptions(index_url=index_url)


def make_env(path: Path, index_url: str, packages: list[str]) -> Path:
    """A venv without pip (`uv venv`, fast), filled from the test index by the suite's pip."""
    subprocess.run(
        [str(find_uv()), "venv", "--quiet", "--no-project", "--python", sys.executable, str(path)],
        check=True,
        timeout=120,
    )
    if packages:
        pip("install", "--quiet", "--no-deps", f"--index-url={index_url}", *packages, env=path)
    return path


def listed(env: Path) -> dict[str, str]:
    return {row["name"]: row["version"] for row in pip_list_json(env)}


def observed(
    before: dict[str, str], after: dict[str, str]
) -> list[tuple[str, str | None, str | None]]:
    """What changed between two `pip list` results: (name, from, to)."""
    names = sorted(before.keys() | after.keys())
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


def summary(plan: Plan) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.name, c.action, c.before, c.after) for c in plan.changes]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_plan_is_exactly_what_sync_does(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    env = make_env(tmp_path / "env", index_url, [*INSTALLED, "stray-dep==1.0"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    context = Context(installer=backend, index=index)
    kept = plan_sync(env, requirements, keep_untracked=True, context=context)
    assert summary(kept) == [row for row in EXPECTED if row[1] != "remove"]
    plan = plan_sync(env, requirements, context=context)
    assert summary(plan) == EXPECTED
    assert plan.installer == backend and plan.source == requirements
    assert "--dry-run" in plan.dry_run_argv
    before = listed(env)
    result = sync(env, requirements, context=context)
    after = listed(env)
    assert observed(before, after) == [(c.name, c.before, c.after) for c in plan.changes]
    assert after["setuptools"] == "1.0"  # never removed, though nothing needs it
    assert result.drift is not None and result.drift.summary == "in-sync"
    assert plan_sync(env, requirements, context=context).empty


@pytest.mark.parametrize("backend", BACKENDS)
def test_apply_refuses_a_plan_the_environment_no_longer_matches(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==2.0\n")
    context = Context(installer=backend, index=index)
    plan = plan_sync(env, requirements, context=context)
    assert summary(plan) == [("alpha", "upgrade", "1.0", "2.0")]
    pip("install", "--quiet", f"--index-url={index_url}", "alpha==1.1", env=env)
    with pytest.raises(PlanOutdatedError, match=r"alpha is now 1\.1, the plan expected 1\.0"):
        apply_plan(Plan.from_json(json.loads(json.dumps(plan.to_json()))), context=context)
    assert listed(env) == {"alpha": "1.1"}
    fresh = plan_sync(env, requirements, context=context)
    apply_plan(fresh, context=context)
    assert listed(env) == {"alpha": "2.0"}


def test_apply_refuses_when_a_package_the_plan_does_not_touch_changed(
    tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    """The plan removes zeta (nothing needs it); before it is applied, epsilon (which needs
    zeta) is installed by hand: removing zeta now would break epsilon, so apply refuses."""
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0", "zeta==1.0"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    context = Context(installer="pip", index=index)
    plan = plan_sync(env, requirements, context=context)
    assert summary(plan) == [("zeta", "remove", "1.0", None)]
    pip("install", "--quiet", f"--index-url={index_url}", "epsilon==1.0", env=env)
    stored = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    with pytest.raises(
        PlanOutdatedError, match=r"epsilon is now 1\.0, the plan expected not installed"
    ):
        apply_plan(stored, context=context)
    assert listed(env) == {"alpha": "1.0", "epsilon": "1.0", "zeta": "1.0"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_all_upgrades_what_the_requirements_name_and_leaves_the_tools(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    env = make_env(
        tmp_path / "env", index_url, ["alpha==1.0", "zeta==1.0", "setuptools==1.0", "wheel==1.0"]
    )
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha<2\nsetuptools\nwheel\n")
    context = Context(installer=backend, index=index)
    plan = plan_upgrade(env, requirements, context=context)
    assert summary(plan) == [("alpha", "upgrade", "1.0", "1.1")]  # zeta: not a requirement
    with_tools = plan_upgrade(env, requirements, include_tools=True, context=context)
    assert summary(with_tools) == [
        ("alpha", "upgrade", "1.0", "1.1"),
        ("setuptools", "upgrade", "1.0", "2.0"),
        ("wheel", "upgrade", "1.0", "2.0"),
    ]
    one = plan_upgrade(env, requirements, names=["zeta"], context=context)
    assert summary(one) == [("zeta", "upgrade", "1.0", "2.0")]
    named = plan_upgrade(env, requirements, names=["setuptools"], context=context)
    assert summary(named) == [("setuptools", "upgrade", "1.0", "2.0")]  # asked for by name
    apply_plan(plan, context=context)
    assert listed(env) == {"alpha": "1.1", "setuptools": "1.0", "wheel": "1.0", "zeta": "1.0"}


def test_per_row_install_and_uninstall_plans(
    tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    env = make_env(tmp_path / "env", index_url, ["alpha==2.0", "lam==1.0"])
    context = Context(installer="uv", index=index)
    install = plan_install(env, ["alpha==1.1", "beta==1.0"], context=context)
    assert summary(install) == [
        ("alpha", "downgrade", "2.0", "1.1"),
        ("beta", "install", None, "1.0"),
    ]
    remove = plan_uninstall(env, ["lam"], context=context)
    assert summary(remove) == [("lam", "remove", "1.0", None)]
    with pytest.raises(InvalidSpecError, match="not installed"):
        plan_uninstall(env, ["zeta"], context=context)
    apply_plan(install, context=context)
    # Made before the install: the environment it saw is gone, so it is made again.
    with pytest.raises(PlanOutdatedError, match=r"alpha is now 1\.1, the plan expected 2\.0"):
        apply_plan(remove, context=context)
    apply_plan(plan_uninstall(env, ["lam"], context=context), context=context)
    assert listed(env) == {"alpha": "1.1", "beta": "1.0"}


def test_a_stored_plan_is_checked_before_anything_is_handed_to_the_installer() -> None:
    plan = Plan(
        environment=Path("/envs/app"),
        installer="uv",
        changes=(PlannedChange("alpha", "upgrade", "1.0", "2.0", "alpha==2.0"),),
        source=None,
        dry_run_argv=("uv", "pip", "install", "--dry-run"),
    )
    data = plan.to_json()
    assert data["actions"] == [
        {
            "name": "alpha",
            "action": "upgrade",
            "from": "1.0",
            "to": "2.0",
            "requirement": "alpha==2.0",
            "editable": False,
        }
    ]
    assert Plan.from_json(json.loads(json.dumps(data))) == plan
    action = cast(list[dict[str, object]], data["actions"])[0]
    for requirement in ("--index-url=http://evil.example/simple", "beta==2.0", "-e ."):
        actions = [{**action, "requirement": requirement}]
        with pytest.raises(InvalidSpecError):
            Plan.from_json({**data, "actions": actions})
    with pytest.raises(InvalidSpecError):
        Plan.from_json({**data, "installer": "conda"})
    # An editable needs a URL to install from; the installed set is [name, version] pairs.
    with pytest.raises(InvalidSpecError, match="no URL"):
        Plan.from_json({**data, "actions": [{**action, "editable": True}]})
    for installed in ([["alpha"]], [[1, "1.0"]], "alpha"):
        with pytest.raises(InvalidSpecError):
            Plan.from_json({**data, "installed": installed})


# --- the command line, as whole processes -----------------------------------------------


def envcore(*args: str, index_url: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PIP_INDEX_URL": index_url}
    return subprocess.run(
        [sys.executable, "-m", "envcore", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_plan_then_sync_on_the_command_line(backend: str, tmp_path: Path, index_url: str) -> None:
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0", "stray==1.0"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==2.0\nepsilon\n")
    common = [str(env), "-r", str(requirements), "--installer", backend]
    planned = envcore("plan", *common, "--json", index_url=index_url)
    assert planned.returncode == 1, planned.stderr
    assert planned.stderr == ""  # only the plan: the installer's output needs -v
    data = json.loads(planned.stdout)
    assert data["installer"] == backend
    assert [{k: a[k] for k in ("name", "action", "from", "to")} for a in data["actions"]] == [
        {"name": "alpha", "action": "upgrade", "from": "1.0", "to": "2.0"},
        {"name": "epsilon", "action": "install", "from": None, "to": "1.0"},
        {"name": "stray", "action": "remove", "from": "1.0", "to": None},
        {"name": "zeta", "action": "install", "from": None, "to": "2.0"},
    ]
    text = envcore("plan", *common, "--keep-untracked", index_url=index_url)
    assert text.returncode == 1
    assert text.stdout.splitlines()[0].split() == ["Package", "Action", "From", "To"]
    assert "stray" not in text.stdout and "3 changes planned" in text.stdout
    assert text.stderr == ""
    verbose = envcore("plan", *common, "--keep-untracked", "-v", index_url=index_url)
    assert (verbose.returncode, verbose.stdout) == (1, text.stdout)
    assert "Would install" in verbose.stderr  # the dry run's own words, pip's or uv's
    synced = envcore("sync", *common, index_url=index_url)
    assert synced.returncode == 0, synced.stderr
    assert "4 changes made with" in synced.stdout
    assert synced.stderr  # sync echoes the installer as pip does (unless -q)
    assert listed(env) == {"alpha": "2.0", "epsilon": "1.0", "zeta": "2.0"}
    assert envcore("drift", str(env), "-r", str(requirements), index_url=index_url).returncode == 0
    again = envcore("plan", *common, "--json", index_url=index_url)
    assert (again.returncode, json.loads(again.stdout)["actions"]) == (0, [])
    requirements.write_text("alpha==1.0\nepsilon\nzeta\n")
    one = envcore("plan", *common, index_url=index_url)
    assert (one.returncode, one.stderr) == (1, "")
    assert one.stdout.splitlines()[-1] == f"1 change planned ({backend} dry run)"


def test_plan_errors_exit_2_with_one_line(tmp_path: Path, index_url: str) -> None:
    missing = envcore("plan", str(tmp_path / "nowhere"), index_url=index_url)
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1
    assert missing.stderr.startswith("envcore: error: ")
    env = make_env(tmp_path / "env", index_url, [])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("no-such-project==1.0\n")
    unresolvable = envcore("sync", str(env), "-r", str(requirements), "-q", index_url=index_url)
    assert unresolvable.returncode == 2
    assert len(unresolvable.stderr.strip().splitlines()) == 1
    assert "Traceback" not in unresolvable.stderr
    unplannable = envcore("plan", str(env), "-r", str(requirements), index_url=index_url)
    assert unplannable.returncode == 2
    assert len(unplannable.stderr.strip().splitlines()) == 1  # the installer's reason, in it:
    assert "dry run) failed" in unplannable.stderr and "no-such-project" in unplannable.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_editable_requirement_is_planned_and_installed_editable(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    project = make_project(tmp_path / "proj", "app-lib", "0.3", dependencies=["lam"])
    env = make_env(tmp_path / "env", index_url, [])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-e ./proj\n")
    context = Context(installer=backend, index=index)
    plan = plan_sync(env, requirements, context=context)
    changes = {change.name: change for change in plan.changes}
    assert sorted(changes) == ["app-lib", "lam"]
    assert changes["app-lib"].editable and changes["app-lib"].action == "install"
    assert changes["app-lib"].requirement == f"app-lib @ {project.as_uri()}"
    apply_plan(plan, context=context)
    rows = {row["name"]: row for row in pip_list_json(env)}
    assert rows["app-lib"].get("editable_project_location") == str(project)
    assert rows["lam"]["version"] == "1.0"
    assert plan_sync(env, requirements, context=context).empty


def test_an_environments_pip_too_old_for_a_dry_run_is_not_asked_for_one(
    tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0"])
    old_pip = write_wheel(
        tmp_path,
        "pip",
        "21.3",
        files={"pip/__init__.py": b"", "pip/__main__.py": b"raise SystemExit('no --dry-run')\n"},
    )
    pip("install", "--quiet", "--no-deps", str(old_pip), env=env)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==2.0\n")
    plan = plan_sync(env, requirements, context=Context(installer="pip", index=index))
    assert summary(plan) == [("alpha", "upgrade", "1.0", "2.0")]  # pip 21.3 is kept
    assert plan.dry_run_argv[:2] == (sys.executable, "-I")


def test_a_plan_applies_when_the_users_pip_configuration_already_says_no_deps(
    tmp_path: Path, index_url: str, index: IndexOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_DEPS", "1")  # uv is told --no-deps too, and refuses it twice
    env = make_env(tmp_path / "env", index_url, [])
    context = Context(installer="uv", index=index)
    plan = plan_install(env, ["beta==1.0"], context=context)
    assert summary(plan) == [("beta", "install", None, "1.0")]  # the configuration holds
    result = apply_plan(plan, context=context)
    assert result.commands[-1].argv.count("--no-deps") == 1
    assert listed(env) == {"beta": "1.0"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_apply_keeps_the_requirements_files_own_sources_and_hashes(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    """alpha 3.0 exists only in a --find-links directory the requirements file names, and the
    file pins it with its hash: the dry run found it there, so the apply must look there too
    (bare pins would fail, or take the name from another index) and check the hash."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = write_wheel(wheels, "alpha", "3.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--find-links {wheels}\nalpha==3.0 --hash=sha256:{digest}\n")
    context = Context(installer=backend, index=index)
    plan = plan_sync(env, requirements, context=context)
    assert summary(plan) == [("alpha", "upgrade", "1.0", "3.0")]
    stored = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert stored.via_files == (
        (str(requirements), hashlib.sha256(requirements.read_bytes()).hexdigest()),
    )
    assert stored.carried == ("alpha",)  # the file's hashed line installs it, not a bare pin
    apply_plan(stored, context=context)
    assert listed(env) == {"alpha": "3.0"}

    # A file changed after the plan (it could now name another index) is refused.
    pip("install", "--quiet", "--no-deps", f"--index-url={index_url}", "alpha==1.0", env=env)
    again = plan_sync(env, requirements, context=context)
    requirements.write_text(requirements.read_text() + "# edited\n")
    with pytest.raises(PlanOutdatedError, match=r"requirements\.txt changed since the plan"):
        apply_plan(again, context=context)
    assert listed(env) == {"alpha": "1.0"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pipfile_is_synced_from_its_entries_never_handed_to_the_installer_as_r(
    backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    """pip cannot read a Pipfile (`[[source]]`, `[packages]`): a sync held to one passes the
    requirements envcore read from it, as pipenv would install them."""
    env = make_env(tmp_path / "env", index_url, ["alpha==1.0", "delta==2.0"])
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text(
        '[[source]]\nurl = "https://example.invalid/simple"\nverify_ssl = true\nname = "x"\n\n'
        '[packages]\nalpha = "==2.0"\ndelta = "==1.0"\n'
    )
    plan = plan_sync(
        env, pipfile, keep_untracked=True, context=Context(installer=backend, index=index)
    )
    assert "-r" not in plan.dry_run_argv and str(pipfile) not in plan.dry_run_argv
    assert summary(plan) == [
        ("alpha", "upgrade", "1.0", "2.0"),
        ("delta", "downgrade", "2.0", "1.0"),
    ]
    result = sync(
        env, pipfile, keep_untracked=True, context=Context(installer=backend, index=index)
    )
    assert listed(env)["alpha"] == "2.0" and listed(env)["delta"] == "1.0"
    assert result.drift is not None and result.drift.summary == "in-sync"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("named", [True, False])
def test_a_tox_envs_unnamed_deps_are_synced_with_what_they_need(
    named: bool, backend: str, tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    """`-e .` in a tox env's deps names no project: it is given to the installer as its
    location (and installed editable), the rest of its closure is kept, and without any
    named dep the dry run still has something to resolve."""
    project = make_project(tmp_path / "tx", "txproj", "0.1", dependencies=["lam"])
    deps = "    -e .\n" + ("    alpha==2.0\n" if named else "")
    (project / "tox.ini").write_text(f"[testenv]\ndeps =\n{deps}")
    env = make_env(project / ".tox" / "py", index_url, ["lam==1.0", "stray==1.0"])
    context = Context(installer=backend, index=index, roots=[tmp_path])
    plan = plan_sync(env, None, context=context)
    changes = {c.name: (c.action, c.editable) for c in plan.changes}
    assert changes == {
        "txproj": ("install", True),
        "stray": ("remove", False),  # lam stays: txproj needs it
        **({"alpha": ("install", False)} if named else {}),
    }
    apply_plan(plan, context=context)
    assert listed(env) == {"lam": "1.0", "txproj": "0.1", **({"alpha": "2.0"} if named else {})}
    rows = {row["name"]: row for row in pip_list_json(env)}
    assert rows["txproj"].get("editable_project_location") == str(project)
    assert plan_sync(env, None, context=context).empty


def test_deps_that_ask_for_nothing_here_are_refused_before_the_installer_runs(
    tmp_path: Path, index_url: str, index: IndexOptions
) -> None:
    """A dry run of nothing is the installer's usage text: one line of envdash's instead."""
    project = tmp_path / "tx"
    project.mkdir()
    (project / "tox.ini").write_text("[testenv]\ndeps =\n    alpha ; python_version < '3'\n")
    env = make_env(project / ".tox" / "py", index_url, [])
    with pytest.raises(RequirementsError) as caught:
        plan_sync(env, None, context=Context(installer="uv", index=index, roots=[tmp_path]))
    assert str(caught.value) == (
        f"nothing to install from {project / 'tox.ini'}: none of its requirements applies to {env}"
    )
