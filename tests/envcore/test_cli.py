"""`python -m envcore` loads only what the chosen subcommand needs, and lists every one."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.cli import COMMANDS, main
from tests.envcore.synthetic import dist_info, posix_venv

#: Modules a subcommand that reads no environment and no requirements must not load.
HEAVY = (
    "envcore.environment",
    "envcore.distributions",
    "envcore.requirements",
    "envcore.drift",
    "envcore.index",
    "envcore.discover",
    "packaging",
    "urllib.request",
    "email",
    "concurrent.futures",
    "tomllib",
    "jsonschema",
)


#: Runs `python -m envcore` as `-m` does (runpy), then prints every module the process loaded.
#: (`-X importtime` would not do: it does not see modules loaded through importlib.)
RUN_AND_LIST = """
import atexit, runpy, sys
atexit.register(lambda: print("MODULES", *sorted(sys.modules), file=sys.stderr))
runpy.run_module("envcore", run_name="__main__", alter_sys=True)
"""


def imported_modules(*argv: str) -> set[str]:
    """Every module the whole process `python -m envcore ARGV` imports; it must succeed."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *argv], capture_output=True, text=True, timeout=60
    )
    listed = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    assert result.returncode == 0 and len(listed) == 1, result.stderr
    return set(listed[0].split()[1:])


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_help_imports_no_subcommand_and_nothing_heavy() -> None:
    modules = imported_modules("--help")
    assert loaded(modules, "envcore") == ["envcore", "envcore.cli", "envcore.errors"]
    assert {name: loaded(modules, name) for name in HEAVY} == {name: [] for name in HEAVY}


def test_a_subcommand_imports_its_own_module_only(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    modules = imported_modules("reqs", str(requirements))
    assert loaded(modules, "envcore.commands") == [
        "envcore.commands",
        "envcore.commands._common",
        "envcore.commands.reqs",
    ]
    unwanted = ("envcore.environment", "envcore.distributions", "envcore.index")
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


def test_reqs_of_a_requirements_file_loads_no_url_opener_toml_or_openssl(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    modules = imported_modules("reqs", str(requirements))
    assert "envcore.requirements" in modules
    unwanted = ("urllib.request", "email", "http", "tomllib", "hashlib")
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


def test_scan_loads_no_index_client_no_pool_and_no_requirement_parser(tmp_path: Path) -> None:
    modules = imported_modules("scan", str(tmp_path), "--json")
    assert "envcore.commands.scan" in modules and "envcore.discover" in modules
    unwanted = (
        "envcore.index",
        "envcore.drift",
        "concurrent.futures",
        "urllib.request",
        "packaging.requirements",
        "packaging.markers",
        "packaging.specifiers",
        "packaging.utils",  # with packaging.tags, logging and subprocess: ~20 ms
        "packaging.tags",
        "logging",
        "subprocess",
    )
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


def test_help_lists_every_subcommand_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    for name, help_text in COMMANDS.items():
        assert any(line.split() == [name, *help_text.split()] for line in lines), name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_subcommand_has_its_own_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m envcore {command} [-h]")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["bogus"], "argument COMMAND: invalid choice: 'bogus'"),
        (["scan", "--bogus"], "unrecognized arguments: --bogus"),
        (["drift"], "the following arguments are required: ENV"),
    ],
)
def test_usage_errors_exit_2_with_argparse_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_drift_against_a_requirements_file_loads_no_toml_url_opener_or_index(
    tmp_path: Path,
) -> None:
    env = tmp_path / ".venv"
    dist_info(posix_venv(env), "alpha", "1.0")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    modules = imported_modules("drift", str(env), "-r", str(requirements))
    assert "envcore.drift" in modules
    unwanted = ("tomllib", "urllib.request", "email", "hashlib", "envcore.index")
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


@pytest.mark.parametrize("command", ["plan", "sync"])
def test_plan_and_sync_load_their_own_module_and_no_index_client(command: str) -> None:
    modules = imported_modules(command, "--help")
    assert loaded(modules, "envcore.commands") == [
        "envcore.commands",
        "envcore.commands._common",
        f"envcore.commands.{command}",
    ]
    unwanted = ("envcore.index", "urllib.request", "jsonschema")
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


def test_plan_does_not_load_what_only_other_operations_need() -> None:
    """psutil (ending process trees, finding users of an environment), the interpreter list,
    create and the drift comparison cost start-up time a plan never uses (issue 13)."""
    modules = imported_modules("plan", "--help")
    assert "envcore.ops.plan" in modules
    unwanted = ("psutil", "envcore.interpreters", "envcore.ops.create", "envcore.drift")
    assert {name: loaded(modules, name) for name in unwanted} == {name: [] for name in unwanted}


def test_envcore_ops_names_stay_the_functions_whatever_is_imported_first() -> None:
    code = (
        "import envcore.ops.sync, envcore.ops.create, envcore.ops.delete, envcore.ops.recreate\n"
        "import envcore.ops as ops\n"
        "print(sorted(n for n in ops.__all__ if type(getattr(ops, n)).__name__ == 'module'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_tree_as_json_loads_no_text_drawing(tmp_path: Path) -> None:
    env = tmp_path / ".venv"
    dist_info(posix_venv(env), "alpha", "1.0")
    modules = imported_modules("tree", str(env), "--json")
    assert "envcore.tree" in modules and "envcore.treelines" not in modules
    assert "envcore.treelines" in imported_modules("tree", str(env))


def test_main_called_with_argv_leaves_the_collector_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m envcore` freezes what it has loaded (gc.freeze) to spare the collector;
    a caller's process (the tests, a script calling main) must keep collecting it."""
    env = tmp_path / ".venv"
    dist_info(posix_venv(env), "alpha", "1.0")
    frozen = gc.get_freeze_count()
    assert main(["tree", str(env), "--json"]) == 0
    assert gc.get_freeze_count() == frozen
    assert '"alpha"' in capsys.readouterr().out


#: review16 #15: a planted METADATA whose name sets the terminal's title and colour, and
#: whose version clears the screen; another whose version reads backwards.
TITLE_NAME = "red\x1b]0;pwned\x07\x1b[31m"
SHOWN_NAME = "red⟨U+001B⟩]0;pwned⟨U+0007⟩⟨U+001B⟩[31m"


@pytest.fixture
def hostile_env(tmp_path: Path) -> Path:
    site = posix_venv(tmp_path / "an" / ".venv")
    dist_info(site, TITLE_NAME, "1.0\x1b[2J")
    dist_info(site, "evil", "1.0\u202egpj.exe", "gone-dep")
    (tmp_path / "req.txt").write_text("evil\n")
    return tmp_path / "an" / ".venv"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["tree", "{env}"], f"{SHOWN_NAME}==1.0⟨U+001B⟩[2J"),
        (["tree", "{env}", "--reverse"], "evil==1.0⟨U+202E⟩gpj.exe [requires: gone-dep]"),
        (["list", "{env}"], f"{SHOWN_NAME} 1.0⟨U+001B⟩[2J"),
        (["check", "{env}"], "evil 1.0⟨U+202E⟩gpj.exe requires gone-dep, which is not installed"),
        (["drift", "{env}", "-r", "{req}"], f"{SHOWN_NAME} untracked"),
        (["tree", "{env}/\x1b[2J"], "⟨U+001B⟩[2J does not exist"),  # an error, on stderr
    ],
)
def test_control_and_bidi_characters_are_shown_not_obeyed(
    hostile_env: Path, argv: list[str], shown: str
) -> None:
    paths = {"env": str(hostile_env), "req": str(hostile_env.parent.parent / "req.txt")}
    result = subprocess.run(
        [sys.executable, "-m", "envcore", *(arg.format(**paths) for arg in argv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert shown in output
    assert not any(char in output for char in "\x1b\x07\u202e")


@pytest.mark.parametrize("command", ["tree", "list"])
def test_json_output_keeps_the_names_as_they_are(hostile_env: Path, command: str) -> None:
    """JSON escapes every control character itself: a reader gets the very name back."""
    result = subprocess.run(
        [sys.executable, "-m", "envcore", command, str(hostile_env), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "\x1b" not in result.stdout
    assert TITLE_NAME in {row["name"] for row in json.loads(result.stdout)}


def test_a_table_measures_its_columns_as_shown(
    hostile_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """And main gives the caller's streams back afterwards."""
    before = sys.stdout
    assert main(["list", str(hostile_env)]) == 0
    assert sys.stdout is before
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"{'-' * len(SHOWN_NAME)} {'-' * len('1.0⟨U+202E⟩gpj.exe')}"
    assert lines[2:] == [
        "evil" + " " * (len(SHOWN_NAME) - 3) + "1.0⟨U+202E⟩gpj.exe",
        f"{SHOWN_NAME} 1.0⟨U+001B⟩[2J",
    ]
