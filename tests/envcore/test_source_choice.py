"""envcore.requirements.source: which file an environment is held to, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.drift import drift_for_environment
from envcore.environment import Environment, inspect_environment
from envcore.requirements import find_requirements_source
from envcore.requirements._roots import OUTSIDE
from envcore.requirements.source import (
    SourceChoice,
    candidate_sources,
    choose_source,
    read_source,
)
from tests.envcore.synthetic import posix_venv

POETRY_PYPROJECT = """\
[tool.poetry]
name = "app"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.9"
alpha = "^1.0"
"""
UV_PYPROJECT = '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha"]\n\n[tool.uv]\n'
PEP621_PYPROJECT = '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha"]\n'


def project_env(project: Path, files: dict[str, str]) -> Environment:
    """A project directory holding `files`, and its .venv inspected."""
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    posix_venv(project / ".venv")
    return inspect_environment(project / ".venv")


# (files in the project, the file chosen, its kind, words the reason holds)
CASES = [
    (
        {"pyproject.toml": UV_PYPROJECT, "uv.lock": "", "requirements.txt": "alpha\n"},
        "uv.lock",
        "lock",
        "uv.lock: the project's lock file, more exact than pyproject.toml's ranges",
    ),
    ({"uv.lock": "", "setup.py": ""}, "uv.lock", "lock", "uv.lock: the project's lock file"),
    (
        {"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": "", "uv.lock": ""},
        "poetry.lock",
        "lock",
        "(pyproject.toml has [tool.poetry]; also found: uv.lock)",
    ),
    (
        {"pyproject.toml": UV_PYPROJECT, "poetry.lock": "", "uv.lock": "", "pylock.toml": ""},
        "uv.lock",
        "lock",
        "(pyproject.toml has [tool.uv]; also found: poetry.lock, pylock.toml)",
    ),
    (
        {"Pipfile": "[packages]\n", "Pipfile.lock": "{}", "pylock.toml": ""},
        "Pipfile.lock",
        "lock",
        "more exact than Pipfile's ranges (the project has a Pipfile; also found: pylock.toml)",
    ),
    (
        {"pyproject.toml": PEP621_PYPROJECT, "uv.lock": "", "pylock.toml": ""},
        "uv.lock",
        "lock",
        "(nothing says which tool the project uses; also found: pylock.toml)",
    ),
    (
        {"pyproject.toml": PEP621_PYPROJECT, "pylock.dev.toml": "", "pylock.web.toml": ""},
        "pylock.web.toml",
        "lock",
        "pylock.web.toml: the project's lock file",
    ),
    (
        {"pyproject.toml": PEP621_PYPROJECT, "requirements.txt": "alpha\n"},
        "requirements.txt",
        "requirements",
        "requirements.txt: no lock file",
    ),
    (
        {"requirements/dev.txt": "", "requirements/prod.txt": ""},
        "requirements/prod.txt",
        "requirements",
        "requirements/prod.txt: no lock file, no requirements.txt",
    ),
    (
        {"Pipfile": "[packages]\n", "pyproject.toml": PEP621_PYPROJECT},
        "Pipfile",
        "pipfile",
        "Pipfile: no Pipfile.lock",
    ),
    ({"pyproject.toml": PEP621_PYPROJECT}, "pyproject.toml", "pyproject", "no lock or requirem"),
    ({"pyproject.toml": POETRY_PYPROJECT}, "pyproject.toml", "pyproject", "so its ranges"),
    (
        {"pyproject.toml": PEP621_PYPROJECT, "pdm.lock": ""},
        "pyproject.toml",
        "pyproject",
        "pyproject.toml: no lock file envdash reads (pdm.lock is pdm's own), no requirements "
        "file, so its ranges",
    ),
]


@pytest.mark.parametrize(("files", "chosen", "kind", "reason"), CASES)
def test_it_picks_the_projects_truth_and_says_why(
    tmp_path: Path, files: dict[str, str], chosen: str, kind: str, reason: str
) -> None:
    env = project_env(tmp_path, files)
    choice = choose_source(env)
    assert choice.path == tmp_path / chosen
    assert choice.kind == kind
    assert reason in choice.reason
    assert "\n" not in choice.reason
    assert find_requirements_source(tmp_path) == tmp_path / chosen


def test_a_project_with_nothing_declared_has_no_source(tmp_path: Path) -> None:
    env = project_env(tmp_path, {"pyproject.toml": "[build-system]\nrequires = []\n"})
    choice = choose_source(env)
    assert choice == SourceChoice(
        None,
        "none",
        f"no lock file, requirements file, Pipfile or pyproject.toml found in {tmp_path}",
    )
    assert choice.to_json() == {
        "path": None,
        "kind": "none",
        "reason": choice.reason,
        "testenv": None,
    }


def test_an_explicit_choice_wins_and_says_so(tmp_path: Path) -> None:
    env = project_env(tmp_path, {"uv.lock": "", "requirements/dev.txt": "alpha\n"})
    chosen = tmp_path / "requirements" / "dev.txt"
    assert choose_source(env, explicit=chosen) == SourceChoice(
        chosen, "requirements", "chosen by you"
    )
    assert choose_source(env, explicit=tmp_path / "uv.lock").kind == "lock"


def test_an_explicit_choice_that_vanished_falls_back_and_says_why(tmp_path: Path) -> None:
    env = project_env(tmp_path, {"requirements.txt": "alpha\n"})
    gone = tmp_path / "old.txt"
    choice = choose_source(env, explicit=gone)
    assert choice.path == tmp_path / "requirements.txt"
    assert choice.reason == (
        f"{gone} (chosen by you) no longer exists; requirements.txt: no lock file"
    )


def test_an_explicit_choice_outside_the_roots_is_not_used(tmp_path: Path) -> None:
    project = tmp_path / "root" / "app"
    project.mkdir(parents=True)
    env = project_env(project, {"requirements.txt": "alpha\n"})
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("alpha==1\n")
    choice = choose_source(env, [tmp_path / "root"], explicit=elsewhere)
    assert choice.path == project / "requirements.txt"
    assert choice.reason.startswith(f"{elsewhere} (chosen by you) is outside the scan roots; ")


def test_an_env_without_a_project_has_no_source(tmp_path: Path) -> None:
    posix_venv(tmp_path / "loose")
    choice = choose_source(inspect_environment(tmp_path / "loose"))
    assert choice == SourceChoice(None, "none", "the environment has no project directory")


def test_a_nox_env_has_no_declared_source(tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text("import nox\n")
    (tmp_path / "requirements.txt").write_text("alpha\n")
    posix_venv(tmp_path / ".nox" / "tests")
    env = inspect_environment(tmp_path / ".nox" / "tests")
    assert env.manager == "nox"
    choice = choose_source(env)
    assert (choice.path, choice.kind) == (None, "none")
    assert choice.reason == "a test env with no declared source (noxfile.py is code)"


def test_a_tox_env_without_tox_ini_has_no_declared_source(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("alpha\n")
    posix_venv(tmp_path / ".tox" / "py311")
    choice = choose_source(inspect_environment(tmp_path / ".tox" / "py311"))
    assert (choice.path, choice.kind) == (None, "none")
    assert choice.reason == "a test env with no declared source (no tox configuration found)"


def test_a_tox_env_s_deps_are_read_once_for_the_choice_and_the_drift(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[testenv]\ndeps =\n    alpha>=1\n    beta\n")
    posix_venv(tmp_path / ".tox" / "py311")
    env = inspect_environment(tmp_path / ".tox" / "py311")
    choice = choose_source(env, [tmp_path])
    assert (choice.path, choice.kind, choice.testenv) == (tmp_path / "tox.ini", "tox", "py311")
    assert choice == SourceChoice(choice.path, "tox", choice.reason, testenv="py311")
    # Gone after the choice: what drift reads is what the choice read, not a second parse.
    (tmp_path / "tox.ini").unlink()
    parsed, outdated = read_source(env, choice, roots=[tmp_path])
    assert [entry.text for entry in parsed.entries] == ["alpha>=1", "beta"]
    assert [entry.line_number for entry in parsed.entries] == [3, 4]
    assert (parsed.files, outdated) == ((tmp_path / "tox.ini",), "")


def test_candidates_are_every_file_a_user_may_pick_inside_the_roots(tmp_path: Path) -> None:
    project = tmp_path / "app"
    project_env(
        project,
        {
            "pyproject.toml": PEP621_PYPROJECT,
            "uv.lock": "",
            "pylock.toml": "",
            "Pipfile": "",
            "requirements.txt": "",
            "requirements-dev.txt": "",
            "requirements/base.txt": "",
            "README.md": "",
        },
    )
    outside = tmp_path / "outside.txt"
    outside.write_text("")
    (project / "requirements-link.txt").symlink_to(outside)
    assert candidate_sources(project, [project]) == tuple(
        project / name
        for name in (
            "uv.lock",
            "pylock.toml",
            "requirements-dev.txt",
            "requirements.txt",
            "requirements/base.txt",
            "Pipfile",
            "pyproject.toml",
        )
    )


def test_a_lock_leading_out_of_the_roots_is_named_but_not_read(tmp_path: Path) -> None:
    """A planted uv.lock link: chosen (the project holds it), never opened, never in sync."""
    outside = tmp_path / "secret.lock"
    outside.write_text("version = 1\n")
    project = tmp_path / "root" / "app"
    project.mkdir(parents=True)
    env = project_env(project, {"requirements.txt": "alpha\n"})
    (project / "uv.lock").symlink_to(outside)
    roots = [tmp_path / "root"]
    choice = choose_source(env, roots)
    assert (choice.path, choice.kind) == (project / "uv.lock", "lock")
    report = drift_for_environment(env, read_inventory(env), choice=choice, roots=roots)
    assert report.summary == "drifted"
    assert [issue.message for issue in report.parse_errors] == [OUTSIDE]
    assert report.items == () and report.lock_outdated == ""
