"""A sync is planned by the installer's dry run, which builds every directory (and clones
every repository) its requirements name: the build backend runs. Whatever the source kind,
a location a file names outside the scan roots is refused in one line before any
installer starts; one inside them is built as before. Real venvs, real uv and pip, the
hostile files written here; the "backend" is a project whose build backend leaves a mark
when it runs (as any setup.py could do anything)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from envcore.errors import PathNotAllowedError, RequirementsError
from envcore.ops import Context, Log, create, find_uv, plan_sync
from tests.wheelmaker import make_project

#: Written by the hostile project's build backend when anything builds it.
MARK = "RAN"


@dataclass(frozen=True)
class Places:
    root: Path  # the only scan root
    project: Path  # root/proj: where the files naming things live
    evil: Path  # outside the roots: a project whose backend leaves a mark
    repo: Path  # outside the roots: the same project, as a git repository
    commit: str
    mark: Path


def _hostile_project(directory: Path, mark: Path) -> Path:
    """A buildable project whose backend writes `mark` as soon as it is loaded."""
    make_project(directory, "evil", "1.0")
    backend = directory / "wheelmaker.py"
    backend.write_text(backend.read_text() + f"\nPath({str(mark)!r}).write_text('built')\n")
    return directory


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


@pytest.fixture
def places(tmp_path: Path) -> Places:
    mark = tmp_path / MARK
    evil = _hostile_project(tmp_path / "outside" / "evil", mark)
    repo = _hostile_project(tmp_path / "outside" / "repo", mark)
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "x", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    project = tmp_path / "root" / "proj"
    project.mkdir(parents=True)
    return Places(tmp_path / "root", project, evil, repo, commit, mark)


def _uv_venv(path: Path) -> Path:
    subprocess.run(
        [str(find_uv()), "venv", "--quiet", "--no-project", "--python", sys.executable, str(path)],
        check=True,
        timeout=120,
    )
    return path


def _pyproject(places: Places, dependencies: str = '"evil"', more: str = "") -> None:
    (places.project / "pyproject.toml").write_text(
        f'[project]\nname = "proj"\nversion = "0"\ndependencies = [{dependencies}]\n{more}'
    )


def _pipfile(places: Places) -> Path:
    (places.project / "Pipfile").write_text(
        f'[packages]\nevil = {{path = "{places.evil}", editable = true}}\n'
    )
    return places.project / ".venv"


def _pep621(places: Places) -> Path:
    _pyproject(places, f'"evil @ {places.evil.as_uri()}"')
    return places.project / ".venv"


def _pep621_relative(places: Places) -> Path:
    _pyproject(places, '"evil @ file:../../outside/evil"')
    return places.project / ".venv"


def _poetry(places: Places) -> Path:
    (places.project / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "proj"\nversion = "0"\n\n[tool.poetry.dependencies]\n'
        'python = "*"\nevil = {path = "../../outside/evil", develop = true}\n'
    )
    return places.project / ".venv"


def _requirements(text: str) -> Callable[[Places], Path]:
    def write(places: Places) -> Path:
        (places.project / "requirements.txt").write_text(
            text.format(evil=places.evil, repo=places.repo.as_uri())
        )
        return places.project / ".venv"

    return write


def _symlinked(places: Places) -> Path:
    (places.project / "vendored").symlink_to(places.evil)
    return _requirements("-e ./vendored\n")(places)


def _uv_lock(places: Places) -> Path:
    source = f'git = "{places.repo.as_uri()}"'
    _pyproject(places, more=f"\n[tool.uv.sources]\nevil = {{ {source} }}\n")
    (places.project / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.8"\n\n'
        '[[package]]\nname = "proj"\nversion = "0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "evil" }]\n\n'
        f'[package.metadata]\nrequires-dist = [{{ name = "evil", {source} }}]\n\n'
        '[[package]]\nname = "evil"\nversion = "1.0"\n'
        f'source = {{ git = "{places.repo.as_uri()}#{places.commit}" }}\n'
    )
    return places.project / ".venv"


def _pylock(places: Places) -> Path:
    _pyproject(places)
    (places.project / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "evil"\n'
        f'vcs = {{ type = "git", path = "../../outside/repo", commit-id = "{places.commit}" }}\n'
    )
    return places.project / ".venv"


def _tox(places: Places) -> Path:
    (places.project / "tox.ini").write_text(f"[testenv]\ndeps =\n    -e {places.evil}\n")
    return places.project / ".tox" / "py"


HOSTILE: dict[str, Callable[[Places], Path]] = {
    "Pipfile path": _pipfile,
    "PEP 621 file URL": _pep621,
    "PEP 621 relative file URL": _pep621_relative,
    "poetry path": _poetry,
    "requirements -e": _requirements("-e {evil}\n"),
    "requirements plain path": _requirements("../../outside/evil\n"),
    "requirements git+file": _requirements("evil @ git+{repo}\n"),
    "requirements hg+file": _requirements("-e hg+{repo}#egg=evil\n"),
    "requirements GIT+FILE://localhost": _requirements(
        "evil @ GIT+" + "FILE://localhost{evil}/../repo@main\n"
    ),
    "requirements --find-links": _requirements("--find-links ../../outside/evil\nevil\n"),
    "symlink out of the roots": _symlinked,
    "uv.lock git file": _uv_lock,
    "pylock vcs path": _pylock,
    "tox deps -e": _tox,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_location_outside_the_roots_is_refused_before_any_installer_runs(
    case: str, places: Places
) -> None:
    env = _uv_venv(HOSTILE[case](places))
    commands: list[tuple[str, ...]] = []
    context = Context(installer="uv", roots=[places.root], log=Log(on_command=commands.append))
    with pytest.raises(RequirementsError) as caught:
        plan_sync(env, None, context=context)
    message = str(caught.value)
    assert message.startswith("cannot sync: ") and "\n" not in message
    assert "outside the scan roots" in message and str(places.root.parent / "outside") in message
    assert commands == []  # nothing was started
    assert not places.mark.exists()  # nothing was built


def test_the_same_project_inside_the_roots_is_built_as_before(places: Places) -> None:
    """The rule is about where a location is, not what kind of entry names it: the hostile
    project inside the roots, as an editable path and as a PEP 621 file URL, is planned."""
    inside = places.project / "lib"
    _hostile_project(inside, places.mark)
    (places.project / "requirements.txt").write_text("-e ./lib\n")
    env = _uv_venv(places.project / ".venv")
    context = Context(installer="uv", roots=[places.root])
    plan = plan_sync(env, None, context=context)
    assert [(c.name, c.action, c.editable) for c in plan.changes] == [("evil", "install", True)]
    (places.project / "requirements.txt").unlink()
    _pyproject(places, f'"evil @ {inside.as_uri()}"')
    plan = plan_sync(env, None, context=context)
    assert [(c.name, c.action) for c in plan.changes] == [("evil", "install")]


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_creating_from_a_requirements_file_naming_an_outside_project_is_refused(
    installer: str, places: Places
) -> None:
    """pip reads a requirements file given as `-r` itself: create (and recreate) refuse
    what it names outside the roots before the new environment is even made."""
    requirements = places.project / "requirements.txt"
    requirements.write_text(f"-e {places.evil}\n")
    commands: list[tuple[str, ...]] = []
    context = Context(installer=installer, roots=[places.root], log=Log(on_command=commands.append))
    with pytest.raises(PathNotAllowedError, match="outside the scan roots"):
        create(places.project / ".venv", sys.executable, requirements=requirements, context=context)
    assert commands == [] and not places.mark.exists()
    assert not (places.project / ".venv").exists()


@pytest.mark.parametrize("roots", [None, "root"])
def test_a_locked_url_urllib_refuses_is_one_line_before_any_run(
    roots: str | None, places: Places
) -> None:
    """`https://[bad/…` is no URL (urllib raises on it, and so would the installers): the
    plan says so in one line, with or without roots, and starts nothing."""
    url = "https://[bad/foo-1.0-py3-none-any.whl"
    _pyproject(places, '"foo"', f'\n[tool.uv.sources]\nfoo = {{ url = "{url}" }}\n')
    (places.project / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.8"\n\n'
        '[[package]]\nname = "proj"\nversion = "0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "foo" }]\n\n'
        f'[package.metadata]\nrequires-dist = [{{ name = "foo", url = "{url}" }}]\n\n'
        f'[[package]]\nname = "foo"\nversion = "1.0"\nsource = {{ url = "{url}" }}\n'
    )
    env = _uv_venv(places.project / ".venv")
    commands: list[tuple[str, ...]] = []
    context = Context(
        installer="uv",
        roots=None if roots is None else [places.root],
        log=Log(on_command=commands.append),
    )
    with pytest.raises(RequirementsError) as caught:
        plan_sync(env, None, context=context)
    assert str(caught.value) == (
        f"cannot sync: {places.project / 'uv.lock'} locks foo at {url}, which is no URL "
        "an installer could use (fix the file)"
    )
    assert commands == []
