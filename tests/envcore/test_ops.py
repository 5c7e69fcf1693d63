"""envcore.ops against real venvs, real pip and real uv, offline from the test wheelhouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from envcore.environment import inspect_environment, site_packages_signature
from envcore.errors import (
    CancelledError,
    CommandFailedError,
    EnvironmentBusyError,
    InvalidSpecError,
    NotAnEnvironmentError,
    PathNotAllowedError,
    RequirementsError,
)
from envcore.interpreters import base_interpreter, check_user_interpreter, list_interpreters, probe
from envcore.ops import (
    Context,
    IndexOptions,
    JournalEntry,
    Log,
    MemoryJournal,
    choose_backend,
    create,
    delete,
    install,
    parse_installer,
    parse_user_spec,
    plan_freeze,
    processes_using,
    recover_interrupted,
    recreate,
    sync,
    uninstall,
    upgrade,
    write_freeze,
)
from envcore.runner import CancelToken
from tests.envtools import (
    env_python,
    listing,
    make_venv,
    pip,
    pip_list_json,
    plant_lookalikes,
)
from tests.wheelmaker import make_project, write_wheel

BACKENDS = ["pip", "uv"]
BASE = base_interpreter(inspect_environment(sys.prefix))


@pytest.fixture(scope="module")
def index(wheelhouse: Path) -> IndexOptions:
    return IndexOptions(no_index=True, find_links=(str(wheelhouse),))


def _versions(env: Path) -> dict[str, str]:
    return {row["name"]: row["version"] for row in pip_list_json(env)}


def _freeze(env: Path) -> str:
    return pip("freeze", "--all", env=env).stdout


def _leftovers(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if ".envdash-" in name)


class _Recorded(MemoryJournal):
    """A MemoryJournal that also keeps every entry ever recorded, to check what was moved."""

    def __init__(self) -> None:
        super().__init__(job_id=7)
        self.seen: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        assert not os.path.lexists(entry.moved)  # recorded before the rename
        self.seen.append(entry)
        super().record(entry)


# --- user input ----------------------------------------------------------------------

REFUSED_SPECS = [
    "--index-url=http://evil.example/simple",
    "-i http://evil.example/simple",
    "-e .",
    "--editable=/tmp/x",
    "-r requirements.txt",
    "./local/project",
    "../up",
    "/abs/path/pkg.whl",
    "~/pkg",
    "https://evil.example/pkg.whl",
    "file:///tmp/pkg.whl",
    "git+https://evil.example/repo.git",
    "alpha @ https://evil.example/alpha.whl",
    "alpha @ file:///tmp/alpha.whl",
    "",
    "alpha beta",
    "alpha; rm -rf /",
    "alpha==1.0 --hash=sha256:00",
]


@pytest.mark.parametrize("spec", REFUSED_SPECS)
def test_parse_user_spec_refuses_anything_but_a_pep508_requirement(spec: str) -> None:
    with pytest.raises(InvalidSpecError) as excinfo:
        parse_user_spec(spec)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("alpha", "alpha"),
        (" Delta_Pkg.Two >= 3 ", "Delta_Pkg.Two>=3"),
        ("beta[extra]<2,>=1", "beta[extra]<2,>=1"),
        ('gamma; python_version >= "3"', 'gamma; python_version >= "3"'),
    ],
)
def test_parse_user_spec_accepts_requirements(spec: str, expected: str) -> None:
    assert str(parse_user_spec(spec)) == expected


@given(st.text(min_size=0, max_size=40))
def test_parse_user_spec_never_lets_an_option_or_url_through(text: str) -> None:
    for candidate in (f"-{text}", f"--{text}", f"https://{text}", f"x @ file:///{text}"):
        with pytest.raises(InvalidSpecError):
            parse_user_spec(candidate)
    try:
        requirement = parse_user_spec(text)
    except InvalidSpecError:
        return
    assert requirement.url is None and not str(requirement).startswith("-")


def test_direct_urls_need_the_explicit_option() -> None:
    requirement = parse_user_spec("alpha @ file:///tmp/alpha.whl", allow_urls=True)
    assert requirement.url == "file:///tmp/alpha.whl"
    with pytest.raises(InvalidSpecError):  # still no options, even with URLs allowed
        parse_user_spec("--index-url=http://x", allow_urls=True)


def test_installer_choice_is_parsed_strictly() -> None:
    assert parse_installer(" UV ") == "uv" and parse_installer("") == "auto"
    with pytest.raises(InvalidSpecError):
        parse_installer("conda")
    assert choose_backend("auto").backend == "uv"  # the project venv ships uv next to python
    assert choose_backend("pip").backend == "pip"


# --- create, install, upgrade, uninstall ----------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_create_install_upgrade_uninstall(
    backend: str, tmp_path: Path, index: IndexOptions
) -> None:
    assert BASE is not None
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    commands: list[tuple[str, ...]] = []
    lines: list[str] = []
    log = Log(on_command=commands.append, on_line=lambda stream, text: lines.append(text))
    env = tmp_path / "env"
    created = create(
        env,
        BASE,
        prompt="demo",
        requirements=requirements,
        context=Context(installer=backend, index=index, log=log),
    )
    assert created.backend == backend and created.environment == env
    seeded = {"pip", "setuptools"} if backend == "pip" else set()  # venv seeds, uv does not
    assert set(_versions(env)) == {"alpha", *seeded} and _versions(env)["alpha"] == "1.0"
    assert inspect_environment(env).prompt in {"demo", "'demo'"}
    assert [c.argv for c in created.commands] == commands
    assert ("uv" in Path(commands[0][0]).name) == (backend == "uv")
    assert any("alpha" in line for line in lines)

    installed = install(env, ["beta==1.0"], context=Context(installer=backend, index=index))
    assert installed.changes == ("+ beta 1.0",)
    assert installed.commands[0].argv[-2:] == ("--", "beta==1.0")

    allowed = upgrade(
        env, "alpha", "allowed", specifier="<2", context=Context(installer=backend, index=index)
    )
    assert allowed.changes == ("~ alpha 1.0 -> 1.1",)
    latest = upgrade(env, "alpha", "latest", context=Context(installer=backend, index=index))
    assert latest.changes == ("~ alpha 1.1 -> 2.0",)
    exact = upgrade(env, "alpha", "1.0", context=Context(installer=backend, index=index))
    assert exact.changes == ("~ alpha 2.0 -> 1.0",)
    assert _versions(env)["alpha"] == "1.0"

    removed = uninstall(env, ["beta"], context=Context(installer=backend))
    assert removed.changes == ("- beta 1.0",)
    assert "beta" not in _versions(env)
    assert not _leftovers(env) and not _leftovers(tmp_path)


def test_pip_backend_uses_the_environments_own_pip_when_it_has_one(
    tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    with_pip = make_venv(tmp_path / "with", with_pip=True)
    without = make_venv(tmp_path / "without")
    first = install(with_pip, ["alpha"], context=Context(installer="pip", index=index))
    second = install(without, ["alpha"], context=Context(installer="pip", index=index))
    assert first.commands[0].argv[:4] == (str(env_python(with_pip)), "-I", "-m", "pip")
    assert second.commands[0].argv[:6] == (
        sys.executable,
        "-I",
        "-m",
        "pip",
        "--python",
        str(env_python(without)),
    )
    assert _versions(without) == {"alpha": "2.0"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_relative_paths_in_a_requirements_file_are_read_from_its_directory(
    backend: str, tmp_path: Path, index: IndexOptions
) -> None:
    env = make_venv(tmp_path / "envs" / "one")
    make_project(tmp_path / "work" / "proj", "rel-proj", "0.1", dependencies=["alpha"])
    requirements = tmp_path / "work" / "requirements.txt"
    requirements.write_text("-e ./proj\n")
    install(env, requirements=requirements, context=Context(installer=backend, index=index))
    rows = {row["name"]: row for row in pip_list_json(env)}
    assert rows["rel-proj"]["editable_project_location"] == str(tmp_path / "work" / "proj")
    assert rows["alpha"]["version"] == "2.0"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_install_leaves_the_environment_exactly_as_it_was(
    backend: str, tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    env = make_venv(tmp_path / "env", ["alpha==1.0", "beta==1.0"], wheelhouse=wheelhouse)
    before = _freeze(env)
    files_before = sorted(os.listdir(inspect_environment(env).site_packages[0]))
    with pytest.raises(CommandFailedError) as excinfo:
        install(
            env,
            ["beta==2.0", "no-such-package-anywhere"],
            context=Context(installer=backend, index=index),
        )
    assert "\n" not in str(excinfo.value)
    assert _freeze(env) == before
    assert sorted(os.listdir(inspect_environment(env).site_packages[0])) == files_before


@pytest.fixture(scope="module")
def untouched_env(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """Shared by the refusal tests: each one checks that it is still exactly as made."""
    return make_venv(
        tmp_path_factory.mktemp("refused") / "env", ["alpha==1.0"], wheelhouse=wheelhouse
    )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda env: install(env, ["--index-url=http://x/simple"]), InvalidSpecError),
        (lambda env: install(env, ["-e", "."]), InvalidSpecError),
        (lambda env: install(env, ["./project"]), InvalidSpecError),
        (lambda env: install(env, ["https://x/alpha.whl"]), InvalidSpecError),
        (lambda env: install(env, []), InvalidSpecError),
        (lambda env: upgrade(env, "alpha", "--pre"), InvalidSpecError),
        (lambda env: upgrade(env, "alpha", "allowed", specifier="; rm"), InvalidSpecError),
        (lambda env: upgrade(env, "--upgrade", "latest"), InvalidSpecError),
        (lambda env: upgrade(env, "not-installed", "latest"), InvalidSpecError),
        (lambda env: uninstall(env, ["-y"]), InvalidSpecError),
        (lambda env: uninstall(env, ["alpha==1.0"]), InvalidSpecError),
        (lambda env: install(env.parent, ["alpha"]), NotAnEnvironmentError),
    ],
)
def test_refused_inputs_touch_nothing(
    call: object, error: type[Exception], untouched_env: Path
) -> None:
    env = inspect_environment(untouched_env)
    signature = site_packages_signature(env)
    installed = sorted(os.listdir(env.site_packages[0]))
    assert callable(call)
    with pytest.raises(error) as excinfo:
        call(untouched_env)
    assert "\n" not in str(excinfo.value)
    assert site_packages_signature(inspect_environment(untouched_env)) == signature
    assert sorted(os.listdir(env.site_packages[0])) == installed
    assert sorted(os.listdir(untouched_env)) == ["bin", "include", "lib", "lib64", "pyvenv.cfg"]


def test_create_refuses_an_existing_path_and_paths_outside_roots(tmp_path: Path) -> None:
    assert BASE is not None
    (tmp_path / "taken").mkdir()
    with pytest.raises(PathNotAllowedError):
        create(tmp_path / "taken", BASE)
    with pytest.raises(PathNotAllowedError):
        create(tmp_path / "new", BASE, context=Context(roots=[tmp_path / "elsewhere"]))
    assert sorted(os.listdir(tmp_path)) == ["taken"]


# --- interpreters --------------------------------------------------------------------


def test_list_interpreters_finds_the_trusted_base_of_our_environment() -> None:
    assert BASE is not None
    found = list_interpreters()
    real = {os.path.realpath(i.path): i for i in found}
    ours = real[os.path.realpath(BASE)]
    assert ours.version == ".".join(map(str, sys.version_info[:3]))
    assert ours.implementation == "CPython"
    assert all(not (i.path.parent.parent / "pyvenv.cfg").exists() for i in found)
    versions = [i.version_tuple for i in found]
    assert versions == sorted(versions, reverse=True)


# --- delete --------------------------------------------------------------------------


def test_delete_removes_an_environment_inside_the_roots(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "root" / "proj" / ".venv")
    journal = _Recorded()
    result = delete(env, context=Context(roots=[tmp_path / "root"], journal=journal))
    assert not env.exists() and not result.trash.exists()
    assert os.listdir(tmp_path / "root" / "proj") == []
    [trash] = journal.seen
    assert (trash.kind, trash.original, trash.moved) == ("delete", env, result.trash)
    assert result.trash.name.endswith(f"-{trash.nonce}")
    assert journal.entries() == ()  # forgotten once removed


def test_delete_refuses_what_is_not_an_environment_inside_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    env = make_venv(root / "env")
    outside = make_venv(tmp_path / "outside")
    (root / "link").symlink_to(env)
    (root / "plain").mkdir()
    (root / "plain" / "keep.txt").write_text("data")
    (root / "nohome").mkdir()
    (root / "nohome" / "pyvenv.cfg").write_text("version = 3.11\n")
    (root / "link-out").symlink_to(outside)
    cases = [
        (outside, PathNotAllowedError),
        (root / "link", PathNotAllowedError),
        (root / "link-out", PathNotAllowedError),
        (root / "plain", NotAnEnvironmentError),
        (root / "nohome", NotAnEnvironmentError),
        (root, PathNotAllowedError),
        (root / "env" / ".." / ".." / "outside", PathNotAllowedError),
    ]
    for path, error in cases:
        with pytest.raises(error):
            delete(path, context=Context(roots=[root]))
    assert (env / "pyvenv.cfg").is_file() and (outside / "pyvenv.cfg").is_file()
    assert (root / "plain" / "keep.txt").read_text() == "data"
    assert (root / "nohome" / "pyvenv.cfg").is_file()


def test_delete_refuses_while_a_process_runs_from_the_environment(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "env")
    sleeper = subprocess.Popen([str(env_python(env)), "-c", "import time; time.sleep(60)"])
    try:
        users = processes_using(env)
        assert [user.pid for user in users] == [sleeper.pid]
        with pytest.raises(EnvironmentBusyError, match=str(sleeper.pid)):
            delete(env, context=Context(roots=[tmp_path]))
        assert (env / "pyvenv.cfg").is_file()
        forced = delete(env, force=True, context=Context(roots=[tmp_path]))
        assert [user.pid for user in forced.forced_over] == [sleeper.pid]
        assert not env.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_processes_using_sees_a_working_directory_inside(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "env")
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], cwd=env / "bin"
    )
    try:
        users = processes_using(env)
        assert [(u.pid, u.reason.split()[0]) for u in users] == [(sleeper.pid, "working")]
    finally:
        sleeper.kill()
        sleeper.wait()


def _planted_python(directory: Path, marker: Path) -> Path:
    """A program named like an interpreter that leaves `marker` behind when run."""
    directory.mkdir(parents=True)
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for name in (f"python{minor}", "python3", "python"):
        (directory / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (directory / name).chmod(0o755)
    return directory


def _point_home(env: Path, home: Path) -> None:
    cfg = env / "pyvenv.cfg"
    lines = cfg.read_text().splitlines(keepends=True)
    cfg.write_text("".join(f"home = {home}\n" if ln.startswith("home") else ln for ln in lines))


def test_a_probe_runs_with_a_minimal_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDASH_TOKEN", "login-secret")
    monkeypatch.setenv("SOME_API_KEY", "other-secret")
    assert BASE is not None
    seen = tmp_path / "seen"
    wrapper = tmp_path / "python3"
    wrapper.write_text(f'#!/bin/sh\nenv > {seen}\nexec {os.path.realpath(BASE)} "$@"\n')
    wrapper.chmod(0o755)
    found = probe(wrapper, "user")
    assert found is not None and found.version == ".".join(map(str, sys.version_info[:3]))
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines()}
    assert "ENVDASH_TOKEN" not in names and "SOME_API_KEY" not in names
    assert "PATH=/usr/bin:/bin" in seen.read_text().splitlines()


def test_check_user_interpreter_refuses_what_is_not_a_base_python(tmp_path: Path) -> None:
    (tmp_path / "script").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "script").chmod(0o755)
    for raw in ("", "python3", "/x\n/usr/bin/python3", str(tmp_path), sys.executable):
        with pytest.raises(InvalidSpecError) as excinfo:
            check_user_interpreter(raw)
        assert "\n" not in str(excinfo.value)
    with pytest.raises(InvalidSpecError, match="did not answer"):
        check_user_interpreter(str(tmp_path / "script"))
    assert BASE is not None
    assert check_user_interpreter(str(BASE)).source == "user"


# --- recreate ------------------------------------------------------------------------


@pytest.fixture
def rich_env(tmp_path: Path, wheelhouse: Path) -> Path:
    """alpha, beta, a direct-URL wheel and an editable project."""
    env = make_venv(tmp_path / "root" / "env", ["alpha==1.1", "beta==1.0"], wheelhouse=wheelhouse)
    project = make_project(tmp_path / "proj", "local-proj", "0.2")
    pip("install", "--no-index", "--no-deps", "-e", str(project), env=env)
    direct = write_wheel(tmp_path / "direct", "direct-pkg", "0.9")
    pip("install", "--no-index", "--no-deps", str(direct), env=env)
    return env


@pytest.mark.parametrize("backend", BACKENDS)
def test_recreate_rebuilds_the_same_set_with_editables_still_editable(
    backend: str, rich_env: Path, index: IndexOptions
) -> None:
    before = pip_list_json(rich_env)
    marker = rich_env / "lib" / "stray-file"
    marker.write_text("only in the old tree")
    journal = _Recorded()
    result = recreate(rich_env, context=Context(installer=backend, index=index, journal=journal))
    assert pip_list_json(rich_env) == before  # editable_project_location included
    assert not marker.exists()  # really a new tree
    assert [entry.kind for entry in journal.seen] == ["recreate", "delete"]
    assert {entry.job_id for entry in journal.seen} == {7}
    assert journal.entries() == ()
    assert result.changes == ()
    assert "-e " in result.freeze_text and "direct-pkg @ file://" in result.freeze_text
    assert not _leftovers(rich_env.parent)
    subprocess.run([str(env_python(rich_env)), "-c", "import alpha, beta, local_proj"], check=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_recreate_whose_install_fails_keeps_the_old_environment(
    backend: str, rich_env: Path, tmp_path: Path, index: IndexOptions
) -> None:
    before = _freeze(rich_env)
    cfg = (rich_env / "pyvenv.cfg").read_text()
    requirements = tmp_path / "bad.txt"
    requirements.write_text("alpha\nno-such-package-anywhere\n")
    with pytest.raises(CommandFailedError):
        recreate(
            rich_env, requirements=requirements, context=Context(installer=backend, index=index)
        )
    assert _freeze(rich_env) == before
    assert (rich_env / "pyvenv.cfg").read_text() == cfg
    assert not _leftovers(rich_env.parent) and not _leftovers(rich_env)
    subprocess.run([str(env_python(rich_env)), "-c", "import alpha, beta, local_proj"], check=True)


def test_a_cancelled_recreate_puts_the_old_environment_back(
    rich_env: Path, index: IndexOptions
) -> None:
    before = _freeze(rich_env)
    top_level = sorted(path.name for path in rich_env.iterdir())
    token = CancelToken()

    def on_command(argv: tuple[str, ...]) -> None:
        if "install" in argv:
            token.cancel()

    with pytest.raises(CancelledError):
        recreate(
            rich_env,
            context=Context(
                installer="uv", index=index, log=Log(cancel=token, on_command=on_command)
            ),
        )
    assert _freeze(rich_env) == before
    assert not _leftovers(rich_env.parent)
    assert sorted(path.name for path in rich_env.iterdir()) == top_level  # no pins file left


@pytest.mark.parametrize("backend", BACKENDS)
def test_recreate_never_runs_the_base_a_planted_pyvenv_cfg_names(
    backend: str, tmp_path: Path, index: IndexOptions
) -> None:
    marker = tmp_path / "ran"
    env = make_venv(tmp_path / "root" / "env")
    _point_home(env, _planted_python(tmp_path / "root" / "tools", marker))
    with pytest.raises(NotAnEnvironmentError, match="not one of the trusted interpreters"):
        recreate(env, context=Context(installer=backend, index=index))
    assert not marker.exists()
    assert not _leftovers(env.parent)
    assert BASE is not None
    _point_home(env, BASE.parent)
    recreate(
        env,
        trusted=[tmp_path / "tools" / "python3", BASE],
        context=Context(installer=backend, index=index),
    )
    assert not inspect_environment(env).broken


@pytest.mark.parametrize("backend", BACKENDS)
def test_recreate_keeps_pip_and_setuptools_at_their_versions(
    backend: str, tmp_path: Path, wheelhouse: Path
) -> None:
    """uv seeds nothing and venv seeds its bundled versions: the copy must have the old ones."""
    import ensurepip

    env = make_venv(tmp_path / "root" / "env", with_pip=True)
    seeds = {name: version for name, version in _versions(env).items()}
    assert "pip" in seeds
    bundled = Path(ensurepip.__file__).parent / "_bundled"
    index = IndexOptions(no_index=True, find_links=(str(wheelhouse), str(bundled)))
    recreate(env, context=Context(installer=backend, index=index))
    assert _versions(env) == seeds
    subprocess.run([str(env_python(env)), "-m", "pip", "--version"], check=True)


def test_recreate_with_another_interpreter_fixes_a_lost_base(
    rich_env: Path, index: IndexOptions
) -> None:
    assert BASE is not None
    cfg = rich_env / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("home = ", "home = /nonexistent"))
    assert inspect_environment(rich_env).broken
    with pytest.raises(NotAnEnvironmentError, match="choose another interpreter"):
        recreate(rich_env, context=Context(installer="uv", index=index))
    recreate(rich_env, BASE, context=Context(installer="uv", index=index))
    assert not inspect_environment(rich_env).broken
    assert _versions(rich_env)["alpha"] == "1.1"


CRASH = """
import json, os, signal, sys
from pathlib import Path
from envcore.ops import Context, IndexOptions, Log, MemoryJournal, recreate

journal = MemoryJournal()
carried = sys.argv[3] == "journal"  # else the default journal, lost with the process

def on_command(argv):
    if "install" in argv:  # the new env exists, the old one is the backup: die right here
        for entry in journal.entries() if carried else ():
            print(json.dumps([entry.kind, str(entry.original), str(entry.moved), entry.nonce]))
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

index = IndexOptions(no_index=True, find_links=(sys.argv[2],))
log = Log(on_command=on_command)
given = {"journal": journal} if carried else {}
recreate(Path(sys.argv[1]), context=Context(installer="uv", index=index, log=log, **given))
"""


def _crash_mid_recreate(env: Path, wheelhouse: Path, journal: str) -> MemoryJournal:
    """Kill a real recreate while the old environment sits aside; its journal, carried over."""
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(env), str(wheelhouse), journal],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
    )
    assert crashed.returncode == -9, crashed.stderr
    carried = MemoryJournal()
    for line in crashed.stdout.splitlines():
        kind, original, moved, nonce = json.loads(line)
        carried.record(JournalEntry(kind, Path(original), Path(moved), nonce))
    return carried


def test_a_crash_mid_recreate_is_undone_by_recover_interrupted(
    rich_env: Path, wheelhouse: Path
) -> None:
    before = _freeze(rich_env)
    journal = _crash_mid_recreate(rich_env, wheelhouse, "journal")
    leftover = _leftovers(rich_env.parent)
    assert len(leftover) == 1 and ".envdash-backup-" in leftover[0]
    [entry] = journal.entries()
    assert entry.moved.name == leftover[0] and leftover[0].endswith(entry.nonce)
    assert _versions(rich_env) == {}  # the half-built new environment
    actions = recover_interrupted(journal)
    assert [(a.path, a.action) for a in actions] == [(rich_env, "restored")]
    assert _freeze(rich_env) == before
    assert not _leftovers(rich_env.parent) and not _leftovers(rich_env)
    assert journal.entries() == () and recover_interrupted(journal) == ()


def test_with_the_default_journal_a_crash_leaves_the_backup_for_the_user(
    rich_env: Path, wheelhouse: Path
) -> None:
    before = _freeze(rich_env)
    _crash_mid_recreate(rich_env, wheelhouse, "none")
    [leftover] = _leftovers(rich_env.parent)
    assert recover_interrupted(MemoryJournal()) == ()
    assert _leftovers(rich_env.parent) == [leftover]  # never restored by its name alone
    assert _freeze(rich_env.parent / leftover) == before


def test_recovery_touches_nothing_it_did_not_record(tmp_path: Path) -> None:
    planted = plant_lookalikes(tmp_path)
    before = listing(tmp_path)
    journal = MemoryJournal()
    # Even an entry naming a planted directory is refused: its name lacks the nonce.
    journal.record(
        JournalEntry(
            "recreate",
            planted["important"],
            tmp_path / "x" / ".important.envdash-backup-20240101T000000-1",
            "0123456789abcdef",
        )
    )
    journal.record(
        JournalEntry(
            "recreate",
            planted["env"],
            tmp_path / "y" / "..venv.envdash-backup-20240101T000000-2",
            "fedcba9876543210",
        )
    )
    actions = recover_interrupted(journal)
    assert [a.action for a in actions] == ["left", "left"]
    assert all("nonce" in a.detail for a in actions)
    assert listing(tmp_path) == before
    assert (planted["important"] / "data.txt").read_text() == "keep me"
    assert (planted["env"] / "marker").read_text() == "the real one"
    assert journal.entries() == ()


def _recorded_backup(root: Path, journal: MemoryJournal, *, env: bool = True) -> JournalEntry:
    """A backup as recreate leaves it after a crash (recorded, renamed), built directly."""
    from envcore.ops.journal import plan_move

    entry = plan_move("recreate", root / "app" / ".venv")
    entry.original.parent.mkdir(parents=True, exist_ok=True)
    if env:
        make_venv(entry.moved)
    else:
        entry.moved.mkdir()
    (entry.moved / "marker").write_text("old")
    journal.record(entry)
    return entry


def test_a_recorded_backup_is_not_restored_over_a_directory_that_is_no_environment(
    tmp_path: Path,
) -> None:
    journal = MemoryJournal()
    entry = _recorded_backup(tmp_path, journal)
    entry.original.mkdir()
    (entry.original / "notes.txt").write_text("the user's")
    [action] = recover_interrupted(journal)
    assert action.action == "left" and "not a Python environment" in action.detail
    assert str(entry.moved) in action.detail  # says where the old environment is
    assert (entry.original / "notes.txt").read_text() == "the user's"
    assert (entry.moved / "marker").read_text() == "old"


@pytest.mark.parametrize("original", ["absent", "environment"])
def test_a_recorded_backup_that_is_no_environment_is_not_restored(
    tmp_path: Path, original: str
) -> None:
    journal = MemoryJournal()
    entry = _recorded_backup(tmp_path, journal, env=False)
    if original == "environment":
        make_venv(entry.original)
    [action] = recover_interrupted(journal)
    assert action.action == "left" and "pyvenv.cfg" in action.detail
    assert (entry.moved / "marker").read_text() == "old"
    assert (entry.original / "pyvenv.cfg").exists() == (original == "environment")


def test_a_recorded_backup_swapped_for_a_symlink_is_left_alone(tmp_path: Path) -> None:
    journal = MemoryJournal()
    entry = _recorded_backup(tmp_path, journal)
    elsewhere = tmp_path / "elsewhere"
    entry.moved.rename(elsewhere)
    entry.moved.symlink_to(elsewhere)
    [action] = recover_interrupted(journal)
    assert action.action == "left" and "symlink" in action.detail
    assert entry.moved.is_symlink() and (elsewhere / "marker").exists()
    assert not entry.original.exists()


def test_recovery_handles_each_entry_on_its_own(tmp_path: Path) -> None:
    journal = MemoryJournal()
    broken = JournalEntry("delete", tmp_path / "a", tmp_path / ("b" * 300), "0" * 16)
    journal.record(broken)  # lstat fails: ENAMETOOLONG
    entry = _recorded_backup(tmp_path, journal)
    actions = {a.action: a for a in recover_interrupted(journal)}
    assert set(actions) == {"failed", "restored"}
    assert "next start" in actions["failed"].detail
    assert (entry.original / "marker").read_text() == "old"
    assert journal.entries() == (broken,)  # kept for the next try


def test_recover_interrupted_leaves_a_running_recreate_alone_and_finishes_deletions(
    tmp_path: Path,
) -> None:
    from envcore.ops.journal import plan_move
    from envcore.ops.safety import exclusive_lock

    journal = MemoryJournal()
    running = _recorded_backup(tmp_path, journal)
    trash = plan_move("delete", tmp_path / "old")
    (trash.moved / "lib").mkdir(parents=True)
    journal.record(trash)
    with exclusive_lock(running.moved):
        actions = recover_interrupted(journal)
    assert {(a.path, a.action) for a in actions} == {
        (running.moved, "skipped"),
        (trash.moved, "removed"),
    }
    assert running.moved.exists() and not trash.moved.exists() and not running.original.exists()
    assert journal.entries() == (running,)


# --- freeze --------------------------------------------------------------------------

REQUIREMENTS = """\
# Project requirements: keep this comment
--index-url https://pypi.example.invalid/simple
-r base.txt

alpha>=1.0  # the core
Beta [extra] == 0.9 ; python_version >= "3"
not-installed>=2
Delta_Pkg.Two==3.0
gamma>=0.1 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
"""


@pytest.fixture(scope="module")
def frozen_env(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    base = tmp_path_factory.mktemp("freeze")
    return make_venv(
        base / "env", ["alpha==1.1", "beta==1.0", "Delta_Pkg.Two", "gamma"], wheelhouse=wheelhouse
    )


def test_plain_freeze_writes_what_pip_freeze_prints(frozen_env: Path, tmp_path: Path) -> None:
    target = tmp_path / "requirements.txt"
    plan = plan_freeze(frozen_env, target)
    assert plan.old_text is None and plan.changed
    assert plan.new_text == pip("freeze", env=frozen_env).stdout
    assert write_freeze(plan) is None  # nothing to back up
    assert target.read_text() == plan.new_text
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_update_freeze_changes_only_unsatisfied_lines_and_keeps_a_backup(
    frozen_env: Path, tmp_path: Path
) -> None:
    target = tmp_path / "requirements.txt"
    target.write_text(REQUIREMENTS)
    target.chmod(0o600)
    (tmp_path / "base.txt").write_text("alpha==0.1\n")
    plan = plan_freeze(frozen_env, target, "update")
    # alpha 1.1 still satisfies `alpha>=1.0` (a range stays a range), gamma its hashed
    # `>=0.1`, Delta_Pkg.Two 3.0 its pin; beta 1.0 no longer satisfies `== 0.9`: only that
    # line changes, keeping its extras, marker and everything around it.
    expected = REQUIREMENTS.replace("Beta [extra] == 0.9 ;", "Beta [extra]==1.0 ;")
    assert plan.new_text == expected
    assert [line for line in plan.diff.splitlines() if line[:1] in "+-"] == [
        "--- requirements.txt (current)",
        "+++ requirements.txt (new)",
        '-Beta [extra] == 0.9 ; python_version >= "3"',
        '+Beta [extra]==1.0 ; python_version >= "3"',
    ]
    assert plan.notes == (f"{target}:7: not-installed is not installed; left as it is",)
    backup = write_freeze(plan)
    assert backup == tmp_path / "requirements.txt.bak"
    assert backup.read_text() == REQUIREMENTS
    assert target.read_text() == expected
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "base.txt").read_text() == "alpha==0.1\n"
    # Once the environment drifts from a hashed pin, the line cannot change: a note says so.
    target.write_text("gamma==0.0.1 --hash=sha256:" + "0" * 64 + "\n")
    hashed = plan_freeze(frozen_env, target, "update")
    assert not hashed.changed and "hashes would no longer match" in hashed.notes[0]
    target.write_text(expected)
    # A second write keeps the first backup and adds a timestamped one.
    again = plan_freeze(frozen_env, target, "plain")
    second = write_freeze(again)
    assert second is not None and second != backup and second.name.endswith(".bak")
    assert backup.read_text() == REQUIREMENTS and second.read_text() == expected
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _evil_project(directory: Path, marker: Path) -> Path:
    """A project whose build backend leaves `marker` behind as soon as pip or uv loads it."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "evil_backend"\nbackend-path = ["."]\n'
    )
    (directory / "evil_backend.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    return directory


@pytest.mark.parametrize("backend", BACKENDS)
def test_folded_metadata_headers_never_reach_pip(
    backend: str, tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    marker = tmp_path / "ran"
    evil = _evil_project(tmp_path / "evilproj", marker)
    env = make_venv(tmp_path / "root" / "env", ["alpha==1.1"], wheelhouse=wheelhouse)
    site = inspect_environment(env).site_packages[0]
    for name, headers in [
        ("evil", f"Name: evil\nVersion: 1.0\n -e {evil}"),
        ("evil2", f"Name: evil2\n -e {evil}\nVersion: 1.0"),
    ]:
        (site / f"{name}-1.0.dist-info").mkdir()
        (site / f"{name}-1.0.dist-info" / "METADATA").write_text(
            f"Metadata-Version: 2.1\n{headers}\n\n"
        )
    target = tmp_path / "root" / "requirements.txt"
    plan = plan_freeze(env, target)
    assert plan.new_text == "alpha==1.1\n"
    assert "skipped evil: invalid version in its metadata" in plan.notes
    assert any(note.startswith("skipped 'evil2") for note in plan.notes)
    write_freeze(plan)
    target.write_text("evil==0.5\nalpha\nalpha==1.0\n")
    update = plan_freeze(env, target, "update")
    assert update.new_text == "evil==0.5\nalpha\nalpha==1.1\n"
    assert any("invalid version in its metadata" in note for note in update.notes)
    logged: list[str] = []
    result = recreate(
        env,
        context=Context(
            installer=backend, index=index, log=Log(on_line=lambda _, text: logged.append(text))
        ),
    )
    assert "-e" not in result.freeze_text and result.freeze_text.startswith("alpha==1.1\n")
    assert "skipped evil: invalid version in its metadata" in logged
    assert _versions(env)["alpha"] == "1.1"
    assert not marker.exists()


def test_write_freeze_never_follows_a_planted_backup_link(frozen_env: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("keep me\n")
    root = tmp_path / "root"
    root.mkdir()
    target = root / "requirements.txt"
    target.write_text("alpha==1.0\n")
    (root / "requirements.txt.bak").symlink_to(outside / "victim")
    backup = write_freeze(plan_freeze(frozen_env, target, "update"), context=Context(roots=[root]))
    assert (outside / "victim").read_text() == "keep me\n"
    assert (root / "requirements.txt.bak").is_symlink()
    assert backup is not None and backup.parent == root and not backup.is_symlink()
    assert backup.name != "requirements.txt.bak" and backup.read_text() == "alpha==1.0\n"
    assert target.read_text() == "alpha==1.1\n"
    # A dangling link is not created through either.
    (root / "requirements.txt.bak").unlink()
    (root / "requirements.txt.bak").symlink_to(outside / "created")
    write_freeze(plan_freeze(frozen_env, target, "plain"), context=Context(roots=[root]))
    assert sorted(os.listdir(outside)) == ["victim"]


def test_write_freeze_refuses_a_linked_target_or_a_directory_leading_outside(
    frozen_env: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "requirements.txt").write_text("keep me\n")
    root = tmp_path / "root"
    (root / "app").mkdir(parents=True)
    (root / "app" / "requirements.txt").symlink_to(outside / "requirements.txt")
    with pytest.raises(RequirementsError, match="symbolic link") as excinfo:
        plan_freeze(frozen_env, root / "app" / "requirements.txt")
    assert "\n" not in str(excinfo.value)
    (root / "linked").symlink_to(outside)
    plan = plan_freeze(frozen_env, root / "linked" / "new.txt")
    with pytest.raises(PathNotAllowedError):
        write_freeze(plan, context=Context(roots=[root]))
    assert sorted(os.listdir(outside)) == ["requirements.txt"]
    assert (outside / "requirements.txt").read_text() == "keep me\n"


def test_recreate_never_writes_its_pins_through_a_planted_link(
    rich_env: Path, tmp_path: Path, index: IndexOptions
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (rich_env / ".envdash-recreate-requirements.txt").symlink_to(victim)
    recreate(rich_env, context=Context(installer="uv", index=index))
    assert victim.read_text() == "keep me\n"
    assert _versions(rich_env)["alpha"] == "1.1"


def test_write_freeze_refuses_a_link_or_fifo_put_at_the_target_after_the_preview(
    frozen_env: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("alpha\n")  # the previewed text: only the link differs
    root = tmp_path / "root"
    root.mkdir()
    target = root / "requirements.txt"
    target.write_text("alpha\n")
    plan = plan_freeze(frozen_env, target, "update")
    target.unlink()
    target.symlink_to(outside / "victim")
    with pytest.raises(RequirementsError, match="symbolic link"):  # no roots to check
        write_freeze(plan)
    target.unlink()
    os.mkfifo(target)
    with pytest.raises(RequirementsError, match="not a regular file"):  # and no hang
        write_freeze(plan)
    assert (outside / "victim").read_text() == "alpha\n"
    assert sorted(os.listdir(outside)) == ["victim"]
    assert sorted(os.listdir(root)) == ["requirements.txt"]


def test_write_freeze_refuses_a_file_changed_since_the_preview(
    frozen_env: Path, tmp_path: Path
) -> None:
    target = tmp_path / "requirements.txt"
    target.write_text("alpha<1.1\n")
    plan = plan_freeze(frozen_env, target, "update")
    assert plan.new_text == "alpha==1.1\n"
    target.write_text("alpha\nbeta\n")
    with pytest.raises(RequirementsError, match="changed since the preview"):
        write_freeze(plan)
    assert target.read_text() == "alpha\nbeta\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("alpha\n", "alpha==2.0\n"),
        ("alpha>=1,<3\r\n", "alpha==2.0\r\n"),
        ("  alpha [x,y]  >= 1  # why\n", "  alpha [x,y]==2.0  # why\n"),
        ('alpha; python_version > "3" # c', 'alpha==2.0; python_version > "3" # c'),
        ("alpha~=1.0 --config-settings=k=v", "alpha==2.0 --config-settings=k=v"),
        ("# alpha", None),
        ("-r other.txt", None),
    ],
)
def test_pinned_line_keeps_everything_but_the_specifier(line: str, expected: str | None) -> None:
    from envcore.ops.freeze import _pinned_line

    assert _pinned_line(line, "2.0") == expected


# --- sync ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_fixes_versions_then_removes_the_untracked_tree(
    backend: str, tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    env = make_venv(tmp_path / "env", ["alpha==1.0", "beta==1.0", "gamma"], wheelhouse=wheelhouse)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==2.0\n")
    first = sync(
        env, requirements, keep_untracked=True, context=Context(installer=backend, index=index)
    )
    assert first.changes == ("~ alpha 1.0 -> 2.0",)
    assert first.drift is not None and first.drift.summary == "in-sync"
    assert first.drift.untracked == ("gamma",)
    second = sync(env, requirements, context=Context(installer=backend, index=index))
    assert second.changes == ("- beta 1.0", "- gamma 0.5")
    assert second.drift is not None and second.drift.untracked == ()
    assert _versions(env) == {"alpha": "2.0"}
    assert len(second.commands) == 2  # the dry run, then one removal of the whole tree


def test_sync_reads_a_pyproject_and_refuses_a_missing_source(
    tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    env = make_venv(tmp_path / "envs" / "app", ["alpha==2.0"], wheelhouse=wheelhouse)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha<2"]\n')
    result = sync(env, pyproject, context=Context(installer="uv", index=index))
    assert result.changes == ("~ alpha 2.0 -> 1.1",)
    assert result.commands[0].argv[-2:] == ("--", "alpha<2")
    with pytest.raises(RequirementsError):
        sync(env, context=Context(installer="uv", index=index))  # no project, no source given
    # An in-project environment syncs with its project's own requirements by default.
    in_project = make_venv(tmp_path / ".venv", ["alpha==2.0"], wheelhouse=wheelhouse)
    assert sync(in_project, context=Context(installer="uv", index=index)).changes == (
        "~ alpha 2.0 -> 1.1",
    )


# --- the user's pip configuration --------------------------------------------------------


@pytest.fixture(scope="module")
def simple_index(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> str:
    """A PEP 503 index on disk (file:// URL) built from the wheelhouse."""
    root = tmp_path_factory.mktemp("index") / "simple"
    for wheel in sorted(wheelhouse.glob("*.whl")):
        project = root / canonicalize_name(wheel.name.split("-")[0])
        project.mkdir(parents=True, exist_ok=True)
        page = project / "index.html"
        links = page.read_text() if page.exists() else ""
        page.write_text(links + f'<a href="{wheel.as_uri()}">{wheel.name}</a>\n')
    return root.as_uri()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["config-file", "environment"])
def test_both_backends_honour_the_users_pip_index_configuration(
    backend: str, where: str, tmp_path: Path, simple_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "config-file":
        config = tmp_path / "pip.conf"
        config.write_text(f"[global]\nindex-url = {simple_index}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    else:
        monkeypatch.setenv("PIP_INDEX_URL", simple_index)
    env = make_venv(tmp_path / "env")
    result = install(env, ["alpha==1.1"], context=Context(installer=backend))  # no index given
    assert _versions(env) == {"alpha": "1.1"}
    argv = result.commands[0].argv
    if backend == "uv":  # uv never reads pip's configuration: envcore translated it
        assert f"--index-url={simple_index}" in argv
    else:  # pip reads its own configuration; nothing is added
        assert not any(arg.startswith("--index-url") for arg in argv)


# --- requirements leading out of the scan roots -------------------------------------------


@pytest.mark.parametrize("operation", ["create", "sync", "recreate"])
def test_pip_is_never_handed_requirements_that_include_a_file_outside_the_roots(
    operation: str, tmp_path: Path, index: IndexOptions
) -> None:
    root = tmp_path / "root"
    env = make_venv(root / "proj" / ".venv")
    (tmp_path / "shadow").write_text("root:*:20228:0:99999:7:::\n")
    requirements = root / "proj" / "requirements.txt"
    requirements.write_text("-r ../../shadow\n")
    commands: list[tuple[str, ...]] = []
    log = Log(on_command=commands.append)
    with pytest.raises((PathNotAllowedError, RequirementsError), match="outside the scan roots"):
        if operation == "create":
            create(
                root / "new",
                sys.executable,
                requirements=requirements,
                context=Context(roots=[root], log=log),
            )
        elif operation == "sync":
            sync(
                env,
                requirements,
                context=Context(installer="uv", index=index, roots=[root], log=log),
            )
        else:
            recreate(
                env,
                requirements=requirements,
                context=Context(installer="uv", roots=[root], log=log),
            )
    assert commands == []  # refused before pip (or anything else) ran
    assert not (root / "new").exists()
    assert (env / "pyvenv.cfg").is_file()


@pytest.mark.parametrize("backend", BACKENDS)
def test_recreate_from_a_lock_installs_its_pins_not_the_file_as_requirements(
    backend: str, tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    """pip cannot read uv.lock as `-r`: a recreate held to a lock installs what the lock
    pins for the environment (alpha 2.0, where requirements.txt says 1.0 and the old
    environment had 1.1), the same given as a path or as the page's SourceChoice."""
    from envcore.requirements.source import SourceChoice
    from tests.locked import build_shop

    project, env = build_shop(tmp_path, wheelhouse, ["alpha==1.1"])
    lock = project / "uv.lock"
    context = Context(installer=backend, index=index, roots=(tmp_path,))
    recreate(env, requirements=SourceChoice(lock, "lock", "the project's lock"), context=context)
    assert {p["name"]: p["version"] for p in pip_list_json(env)}["alpha"] == "2.0"
    recreate(env, requirements=project / "requirements.txt", context=context)
    assert {p["name"]: p["version"] for p in pip_list_json(env)}["alpha"] == "1.0"
    recreate(env, requirements=lock, context=context)
    assert {p["name"]: p["version"] for p in pip_list_json(env)}["alpha"] == "2.0"


def test_recreate_refuses_a_lock_out_of_date_before_moving_anything(
    tmp_path: Path, wheelhouse: Path, index: IndexOptions
) -> None:
    from tests.locked import build_shop, pyproject

    project, env = build_shop(tmp_path, wheelhouse, ["alpha==1.1"])
    (project / "pyproject.toml").write_text(pyproject(["alpha<2"]))  # the lock holds 2.0
    with pytest.raises(RequirementsError, match=r"cannot sync: .*uv\.lock"):
        recreate(env, requirements=project / "uv.lock", context=Context(index=index))
    assert {p["name"]: p["version"] for p in pip_list_json(env)}["alpha"] == "1.1"
    assert sorted(path.name for path in tmp_path.joinpath("shop").iterdir()) == [
        ".venv",
        "pyproject.toml",
        "requirements.txt",
        "uv.lock",
    ]
