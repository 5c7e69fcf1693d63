"""envcore.drift and the `reqs`/`drift` commands, on real environments built offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envcore.cli import main
from envcore.distributions import Inventory, read_inventory
from envcore.drift import DriftReport, compute_drift, drift_for_environment, unreadable_report
from envcore.environment import inspect_environment
from envcore.errors import RequirementsError
from envcore.requirements import parse_pyproject, parse_requirements_file
from envcore.requirements.source import choose_source
from tests.envcore.synthetic import dist_info, posix_venv
from tests.envtools import install, make_venv, pip
from tests.wheelmaker import make_project, write_wheel

UV = Path(sys.executable).parent / "uv"

DRIFTED_REQUIREMENTS = """\
alpha==1.0
beta>=2.0
missing-pkg==1.0
ancient==1.0 ; python_version < "3.8"
Delta_Pkg.Two>=1
-e ./plainproj
epsilon[fast]==1.0
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The shared wheelhouse plus a package with extras, an unrequested one and a conflict."""
    directory = tmp_path_factory.mktemp("drift-wheels")
    for wheel in wheelhouse.iterdir():
        shutil.copy(wheel, directory)
    write_wheel(directory, "epsilon", "1.0", extras={"fast": ["alpha>=2.0"], "cli": ["gamma"]})
    write_wheel(directory, "zeta", "1.0")
    write_wheel(directory, "omega", "1.0", requires=["alpha>=5"])
    # An application for `uv tool` (which refuses a package without a console script).
    scripts = b"[console_scripts]\ntoolapp = toolapp:main\n"
    write_wheel(
        directory,
        "toolapp",
        "1.0",
        requires=["alpha"],
        files={
            "toolapp/__init__.py": b"def main() -> None:\n    pass\n",
            "toolapp-1.0.dist-info/entry_points.txt": scripts,
        },
    )
    return directory


@pytest.fixture(scope="module")
def drifted_env(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    """app/.venv: index installs, an editable project, extras, an untracked and a conflict."""
    app = tmp_path_factory.mktemp("drift") / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(DRIFTED_REQUIREMENTS)
    make_project(app / "plainproj", "plain-proj", "0.3", dependencies=["alpha"])
    make_project(app / "alphaproj", "alpha", "1.0")
    packages = ["alpha==1.0", "beta==1.0", "Delta_Pkg.Two==3.0", "epsilon==1.0", "zeta==1.0"]
    env = make_venv(app / ".venv", packages, wheelhouse=wheels)
    pip("install", "--no-index", "--no-deps", "-f", str(wheels), "omega", env=env)
    install(env, [str(app / "plainproj")], editable=True, wheelhouse=wheels)
    return env


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    """clean/.venv: exactly what clean/requirements.txt pins, plus one untracked package."""
    project = tmp_path_factory.mktemp("clean") / "clean"
    project.mkdir()
    (project / "requirements.txt").write_text("alpha==1.0\n")
    return make_venv(project / ".venv", ["alpha==1.0", "zeta==1.0"], wheelhouse=wheels)


def opened(env_path: Path) -> tuple[Inventory, DriftReport]:
    env = inspect_environment(env_path)
    inventory = read_inventory(env)
    return inventory, drift_for_environment(env, inventory)


def statuses(report: DriftReport) -> dict[str, str]:
    return {item.name: item.status for item in report.items}


def test_each_requirement_gets_its_status(drifted_env: Path) -> None:
    _, report = opened(drifted_env)
    assert report.source == drifted_env.parent / "requirements.txt"
    assert statuses(report) == {
        "alpha": "ok",
        "beta": "mismatch",
        "missing-pkg": "missing",
        "ancient": "not-applicable",
        "delta-pkg-two": "unpinned",
        "plain-proj": "ok",
        "epsilon": "mismatch",
    }
    by_name = {item.name: item for item in report.items}
    assert by_name["beta"].message == "installed 1.0, requires >=2.0"
    assert by_name["beta"].installed_version == "1.0"
    assert by_name["beta"].required == ">=2.0"
    assert by_name["beta"].source.endswith("requirements.txt:2")
    assert by_name["missing-pkg"].installed_version is None
    assert 'python_version < "3.8"' in by_name["ancient"].message
    assert "alpha 1.0 does not match >=2.0 (for extra 'fast')" in by_name["epsilon"].message
    assert by_name["plain-proj"].required.startswith("-e file://")


def test_summary_counts_untracked_and_pip_check(drifted_env: Path) -> None:
    _, report = opened(drifted_env)
    assert report.summary == "drifted"
    assert report.counts == {
        "ok": 2,
        "mismatch": 2,
        "missing": 1,
        "not-applicable": 1,
        "unpinned": 1,
        "source-differs": 0,
        "untracked": 2,
    }
    assert report.untracked == ("omega", "zeta")
    pip_check = pip("check", env=drifted_env, check=False).stdout.splitlines()
    assert [str(problem) for problem in report.problems] == pip_check
    data = report.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["problems"] == ["omega 1.0 has requirement alpha>=5, but you have alpha 1.0."]


def test_extra_with_uninstalled_dependency_is_missing(drifted_env: Path, tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("epsilon[cli]==1.0\n")
    env = inspect_environment(drifted_env)
    report = compute_drift(env, read_inventory(env), parse_requirements_file(tmp_path / "req.txt"))
    assert statuses(report) == {"epsilon": "missing"}
    assert "gamma (for extra 'cli')" in report.items[0].message


def test_source_differs_both_ways(drifted_env: Path) -> None:
    app = drifted_env.parent
    (app / "sources.txt").write_text("plain-proj==0.3\n-e ./alphaproj\n")
    env = inspect_environment(drifted_env)
    parsed = parse_requirements_file(app / "sources.txt", base_dir=app)
    report = compute_drift(env, read_inventory(env), parsed)
    assert statuses(report) == {"plain-proj": "source-differs", "alpha": "source-differs"}
    first, second = report.items
    assert first.message.startswith("requires a non-editable install, installed 0.3 editable")
    assert second.message == (
        f"requires an editable install of {(app / 'alphaproj').as_uri()}, "
        "installed 1.0 from an index"
    )


def test_constraints_only_constrain(drifted_env: Path, tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("alpha>=1.1\nzeta==9 ; python_version < '3'\nnever-installed\n")
    (tmp_path / "req.txt").write_text("-c c.txt\nalpha\nzeta\n")
    env = inspect_environment(drifted_env)
    report = compute_drift(env, read_inventory(env), parse_requirements_file(tmp_path / "req.txt"))
    assert statuses(report) == {"alpha": "mismatch", "zeta": "unpinned"}
    assert report.items[0].message == f"installed 1.0, constraint >=1.1 ({tmp_path}/c.txt:1)"


def test_in_sync_env_and_untracked(clean_env: Path) -> None:
    _, report = opened(clean_env)
    assert report.summary == "in-sync"
    assert statuses(report) == {"alpha": "ok"}
    assert report.untracked == ("zeta",)
    assert not report.failed()
    assert report.failed(strict=True)


def test_pyproject_project_itself_is_not_untracked(clean_env: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "Zeta"\nversion = "1.0"\ndependencies = ["alpha>=1"]\n'
    )
    env = inspect_environment(clean_env)
    report = compute_drift(env, read_inventory(env), parse_pyproject(tmp_path / "pyproject.toml"))
    assert statuses(report) == {"alpha": "unpinned"}
    assert report.untracked == ()
    assert report.source == tmp_path / "pyproject.toml"


def test_no_source_is_a_report_not_an_error(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "loose")
    dist_info(site, "alpha", "1.0")
    env = inspect_environment(tmp_path / "loose")
    report = drift_for_environment(env, read_inventory(env))
    assert report.source is None
    assert report.items == ()
    assert report.untracked == ("alpha",)
    assert report.note == "the environment has no project directory"
    assert (report.source_kind, report.source_reason) == ("none", report.note)
    assert report.failed()


def test_broken_environment_is_broken(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "proj" / ".venv", home="/nonexistent/python/bin")
    dist_info(site, "alpha", "1.0")
    (tmp_path / "proj" / "requirements.txt").write_text("alpha==1.0\n")
    env = inspect_environment(tmp_path / "proj" / ".venv")
    report = drift_for_environment(env, read_inventory(env))
    assert report.summary == "broken"
    assert statuses(report) == {"alpha": "ok"}
    assert "no longer exists" in report.note
    assert main(["drift", str(tmp_path / "proj" / ".venv")]) == 1


# ---- command line ----------------------------------------------------------------------


def test_cli_drift_exit_codes(
    clean_env: Path, drifted_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(clean_env)]) == 0
    assert "in-sync (1 ok, 1 untracked)" in capsys.readouterr().out
    assert main(["drift", str(clean_env), "--strict"]) == 1
    assert main(["drift", str(drifted_env)]) == 1
    out = capsys.readouterr().out
    assert "beta" in out and "installed 1.0, requires >=2.0" in out
    assert "pip check: omega 1.0 has requirement alpha>=5" in out
    assert main(["drift", str(tmp_path / "nowhere")]) == 2
    assert "envcore: error:" in capsys.readouterr().err
    assert main(["drift", str(clean_env), "-r", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt is not a file" in capsys.readouterr().err


def test_cli_drift_json_and_explicit_file(
    clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.txt").write_text("alpha>=2\nzeta\n")
    assert main(["drift", str(clean_env), "-r", str(tmp_path / "other.txt"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == "drifted"
    assert [(i["name"], i["status"]) for i in data["items"]] == [
        ("alpha", "mismatch"),
        ("zeta", "unpinned"),
    ]
    assert data["source"] == str(tmp_path / "other.txt")
    assert data["environment"] == str(clean_env)


def test_cli_drift_without_any_source_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    posix_venv(tmp_path / "loose")
    assert main(["drift", str(tmp_path / "loose")]) == 2
    assert "pass -r FILE" in capsys.readouterr().err


def test_cli_drift_counts_invalid_lines_as_failure(
    clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "req.txt").write_text("alpha==1.0\nalpha=1.0\n")
    assert main(["drift", str(clean_env), "-r", str(tmp_path / "req.txt")]) == 1
    assert f"{tmp_path}/req.txt:2" in capsys.readouterr().err


def test_a_file_read_in_part_is_drifted_never_in_sync(
    clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two lines invalid, the one read matched: the JSON said "in-sync" while the exit
    status was 1."""
    (tmp_path / "odd.txt").write_text("alpha==1.0\nalpha=1.0\nnot valid!\n")
    assert main(["drift", str(clean_env), "-r", str(tmp_path / "odd.txt"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == "drifted"
    assert len(data["parse_errors"]) == 2
    assert data["note"].startswith(
        f"the source could not be read whole (2 problems); first: {tmp_path}/odd.txt:2: "
    )
    assert (data["source_kind"], data["source_reason"]) == ("requirements", "given with -r")


def test_the_text_output_names_the_source_and_why(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(clean_env)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == [
        f"source: {clean_env.parent / 'requirements.txt'} (no lock file)",
        "in-sync (1 ok, 1 untracked)",
    ]


def test_lock_refuses_a_file_that_is_not_a_lock(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = clean_env.parent / "requirements.txt"
    assert main(["drift", str(clean_env), "--lock", str(requirements)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"envcore: error: {requirements} is not a lock file (uv.lock, pylock.toml, "
        "pylock.NAME.toml, poetry.lock, Pipfile.lock); pass it with -r\n"
    )


def test_lock_and_requirements_are_one_or_the_other(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["drift", str(clean_env), "-r", "a.txt", "--lock", "uv.lock"])
    assert exit_info.value.code == 2
    assert "argument --lock: not allowed with argument -r/--requirements" in (
        capsys.readouterr().err
    )


def test_an_unreadable_lock_is_an_error_or_a_drifted_report(
    clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lock the project holds but envdash cannot read: never in sync. The CLI says so in
    one line (exit 2); pages and snapshots show the same error as a drifted report."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("alpha==1.0\n")
    (project / "uv.lock").write_text('version = 1\n[[package]]\nname = "alpha"\n[[pack')
    shutil.copytree(clean_env, project / ".venv", symlinks=True)
    env = inspect_environment(project / ".venv")
    choice = choose_source(env)
    with pytest.raises(RequirementsError) as raised:
        drift_for_environment(env, read_inventory(env), choice=choice)
    report = unreadable_report(env, read_inventory(env), choice, raised.value)
    assert report.source == project / "uv.lock"
    assert report.source_kind == "lock"
    assert report.summary == "drifted"
    assert report.note == f"the source could not be read: {raised.value}"
    assert str(project / "uv.lock") in report.note
    assert len(report.parse_errors) == 1 and report.failed()
    assert main(["drift", str(project / ".venv"), "--json"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"envcore: error: {raised.value}\n")


def test_cli_reqs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "req.txt").write_text("Foo_Bar[X]>=1 ; python_version>'3'\n-c c.txt\n")
    (tmp_path / "c.txt").write_text("foo-bar<2 --hash=sha256:ab\n")
    assert main(["reqs", str(tmp_path / "req.txt"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(e["name"], e["specifier"], e["constraint"]) for e in data["entries"]] == [
        ("foo-bar", ">=1", False),
        ("foo-bar", "<2", True),
    ]
    assert data["entries"][0]["marker"] == 'python_version > "3"'
    assert data["entries"][0]["extras"] == ["X"]
    assert data["entries"][1]["source"] == f"{tmp_path}/c.txt:1"
    assert data["errors"] == []
    assert main(["reqs", str(tmp_path / "req.txt")]) == 0
    assert "foo-bar[X]" in capsys.readouterr().out
    (tmp_path / "bad.txt").write_text("ok-pkg\nnot valid!\n")
    assert main(["reqs", str(tmp_path / "bad.txt")]) == 1
    captured = capsys.readouterr()
    assert "ok-pkg" in captured.out and f"{tmp_path}/bad.txt:2" in captured.err
    assert main(["reqs", str(tmp_path / "missing.txt")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_drift_pyproject_groups_and_extras(
    clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha==1.0"]\n'
        '[project.optional-dependencies]\nspeed = ["zeta==1.0"]\n'
        '[dependency-groups]\ndev = ["beta>=1"]\n'
    )
    pyproject = str(tmp_path / "pyproject.toml")
    assert main(["drift", str(clean_env), "-r", pyproject, "--strict"]) == 1  # zeta untracked
    capsys.readouterr()
    assert main(["drift", str(clean_env), "-r", pyproject, "--strict", "--extra", "speed"]) == 0
    assert "in-sync (2 ok)" in capsys.readouterr().out
    assert main(["drift", str(clean_env), "-r", pyproject, "--group", "dev", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {i["name"]: i["status"] for i in data["items"]} == {"alpha": "ok", "beta": "missing"}


#: pyproject.toml sources that put several requirements on one line; in each, the entry that
#: `clean_env` (alpha 1.0, zeta 1.0) violates is not the first one on its line.
_ONE_LINE_SOURCES = {
    "dependencies": ('[project]\nname = "app"\ndependencies = ["zeta==1.0", "alpha==2.0"]\n', ()),
    "inline project table": (
        'project = {name = "app", dependencies = ["zeta==1.0", "alpha>=2"]}\n',
        (),
    ),
    "same name twice": ('[project]\nname = "app"\ndependencies = ["alpha", "alpha==2.0"]\n', ()),
    "optional-dependencies": (
        '[project]\nname = "app"\n[project.optional-dependencies]\n'
        'speed = ["zeta==1.0", "alpha==2.0"]\n',
        ("--extra", "speed"),
    ),
    "dependency group": (
        '[dependency-groups]\ndev = ["zeta==1.0", "alpha==2.0"]\n',
        ("--group", "dev"),
    ),
    "included group then a string": (
        '[dependency-groups]\nbase = ["zeta==1.0"]\n'
        'dev = [{include-group = "base"}, "alpha==2.0"]\n',
        ("--group", "dev"),
    ),
    "text repeated on an earlier line": (
        '[project]\nname = "app"\ndependencies = ["zeta==1.0"]\n'
        '[dependency-groups]\ndev = ["zeta==1.0", "alpha==2.0"]\n',
        ("--group", "dev"),
    ),
}


@pytest.mark.parametrize("case", list(_ONE_LINE_SOURCES))
def test_every_entry_on_a_line_is_compared(
    case: str, clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, selection = _ONE_LINE_SOURCES[case]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    assert main(["drift", str(clean_env), "-r", str(pyproject), "--json", *selection]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == "drifted"
    assert "mismatch" in [item["status"] for item in data["items"] if item["name"] == "alpha"]


def test_a_group_included_twice_is_compared_once(clean_env: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[dependency-groups]\nbase = ["alpha==1.0"]\n'
        'dev = [{include-group = "base"}]\ntest = [{include-group = "base"}, "zeta==1.0"]\n'
    )
    env = inspect_environment(clean_env)
    parsed = parse_pyproject(tmp_path / "pyproject.toml", groups=["dev", "test"])
    report = compute_drift(env, read_inventory(env), parsed)
    assert [(item.name, item.status) for item in report.items] == [("alpha", "ok"), ("zeta", "ok")]
    assert report.summary == "in-sync"


def test_a_requirements_file_included_twice_is_compared_once(
    clean_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "base.txt").write_text("alpha==1.0\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\nzeta==1.0\n-r ./base.txt\n")
    env = inspect_environment(clean_env)
    parsed = parse_requirements_file(tmp_path / "requirements.txt")
    report = compute_drift(env, read_inventory(env), parsed)
    assert [(item.name, item.status) for item in report.items] == [("alpha", "ok"), ("zeta", "ok")]


_PIN_CASES = [
    ("==1.0", "1.0"),
    ("==1.0", "1.0.0"),
    ("==1.0.0", "1.0"),
    ("==1.0+cpu", "1.0+cpu"),
    ("==1.0", "1.0+cpu"),
    ("==1.0+cpu", "1.0"),
    ("===1.0", "1.0"),
    ("===1.0", "1.0.0"),
    ("==1.0rc1", "1.0rc1"),
    ("==1.0.*", "1.0.5"),
    ("==01.0", "1.0"),
    ("==1.0", "1.1"),
    ("==1.0,!=1.0", "1.0"),
]


@pytest.mark.parametrize(("specifier", "version"), _PIN_CASES)
def test_pinned_entries_are_judged_as_packaging_judges_them(
    tmp_path: Path, specifier: str, version: str
) -> None:
    """The text shortcut for `==V` must never disagree with packaging's own answer."""
    site = posix_venv(tmp_path / "env")
    dist_info(site, "pinned", version)
    env = inspect_environment(tmp_path / "env")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"pinned{specifier}\n")
    report = compute_drift(env, read_inventory(env), parse_requirements_file(requirements))
    expected = SpecifierSet(specifier).contains(Version(version), prereleases=True)
    satisfied = report.items[0].status in {"ok", "unpinned"}  # `==1.0.*` is not a pin
    assert satisfied == expected
    assert report.items[0].status in {"ok", "unpinned", "mismatch"}


def test_drift_within_roots_reports_an_outside_include_without_reading_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    env = make_venv(root / "proj" / ".venv")
    (tmp_path / "token").write_text("Hunter2TokenValue\n")
    (root / "proj" / "requirements.txt").write_text("-r ../../token\n")
    facts = inspect_environment(env)
    report = drift_for_environment(facts, read_inventory(facts), roots=[root])
    assert report.summary == "drifted"
    assert [str(issue) for issue in report.parse_errors] == [
        f"{root / 'proj' / 'requirements.txt'}:1: -r ../../token: "
        "not read, it is outside the scan roots"
    ]
    assert "hunter2" not in json.dumps(report.to_json()).lower()
    # Without roots (the CLI) the file is read like pip reads it.
    unrestricted = drift_for_environment(facts, read_inventory(facts))
    assert [item.name for item in unrestricted.items] == ["hunter2tokenvalue"]


# ---- which source: application envs and test envs -------------------------------------


def test_an_app_env_has_nothing_to_drift_from(
    tmp_path: Path,
    wheels: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`uv tool install`: the app and its dependencies are the tool's business, none of them
    "untracked" (as neither uv nor pip would call them)."""
    tools = tmp_path / "tools"
    monkeypatch.setenv("UV_TOOL_DIR", str(tools))  # an app env only in uv's tool directory
    subprocess.run(
        [
            *(str(UV), "tool", "install", "-q", "--offline", "--no-index"),
            *("--find-links", str(wheels), "--python", sys.executable, "toolapp"),
        ],
        check=True,
        timeout=120,
        env={
            **os.environ,
            "UV_NO_CONFIG": "1",
            "UV_TOOL_DIR": str(tools),
            "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
        },
    )
    env = inspect_environment(tools / "toolapp")
    assert env.manager == "uv-tool"
    report = drift_for_environment(env, read_inventory(env))
    reason = "an application env made by uv tool: it has no requirements to drift from"
    assert (report.source, report.source_kind, report.note) == (None, "none", reason)
    assert report.items == () and report.untracked == () and report.counts["untracked"] == 0
    assert main(["drift", str(tools / "toolapp")]) == 2
    assert capsys.readouterr().err == f"envcore: error: {reason}; pass -r FILE or --lock FILE\n"


TOX_INI = """\
[tox]
envlist = py, lint

[testenv]
deps =
    alpha==1.0
    lint: zeta>=2
commands = pytest {posargs}

[testenv:docs]
deps = {posargs}
"""


@pytest.fixture(scope="module")
def tox_project(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    """A project whose requirements.txt the test envs are not held to."""
    project = tmp_path_factory.mktemp("tox") / "proj"
    project.mkdir()
    (project / "tox.ini").write_text(TOX_INI)
    (project / "requirements.txt").write_text("alpha==2.0\n")
    for name in ("py", "lint", "docs"):
        make_venv(project / ".tox" / name, ["alpha==1.0", "zeta==1.0"], wheelhouse=wheels)
    return project


def test_a_tox_env_is_held_to_its_own_deps(tox_project: Path) -> None:
    env = inspect_environment(tox_project / ".tox" / "py")
    report = drift_for_environment(env, read_inventory(env))
    assert report.source == tox_project / "tox.ini"
    assert report.source_kind == "tox"
    assert report.source_reason == "tox.ini [testenv:py] deps: what tox installs into this test env"
    assert (statuses(report), report.untracked, report.summary) == (
        {"alpha": "ok"},
        ("zeta",),
        "in-sync",
    )
    lint = inspect_environment(tox_project / ".tox" / "lint")
    assert statuses(drift_for_environment(lint, read_inventory(lint))) == {
        "alpha": "ok",
        "zeta": "mismatch",
    }


def test_a_tox_env_whose_deps_only_tox_can_tell_has_no_source(tox_project: Path) -> None:
    env = inspect_environment(tox_project / ".tox" / "docs")
    report = drift_for_environment(env, read_inventory(env))
    assert report.source is None
    assert report.note == (
        "a test env with no declared source (tox.ini [testenv:docs] deps not readable statically)"
    )
