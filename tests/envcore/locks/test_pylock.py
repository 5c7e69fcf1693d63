"""pylock.toml (PEP 751) read and selected by packaging.pylock: locks `uv export --format
pylock.toml` made from a uv project, envs `uv sync` made, and the standard's groups and
markers in a lock written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import default_environment

from envcore.distributions import read_inventory
from envcore.drift import compute_drift
from envcore.environment import cpython_wheel_tags, inspect_environment
from envcore.errors import PinnedByLockError, RequirementsError
from envcore.locks import lock_tool, read_lock
from envcore.locks._pylock import PylockFile
from envcore.locks.pins import refuse_pinned
from envcore.requirements import load_requirements
from tests.envcore.locks.conftest import LocalIndex, drift_json, make_env, statuses, this_python, uv


@pytest.fixture(scope="module")
def exported(uv_project: Path, local_index: LocalIndex) -> Path:
    """The uv project's lock exported as a pylock (dev group included, as uv sync does)."""
    uv(
        "export",
        "--quiet",
        "--format",
        "pylock.toml",
        "-o",
        "pylock.toml",
        cwd=uv_project,
        index=local_index,
    )
    return uv_project / "pylock.toml"


def test_the_exported_pylock_selects_what_uv_sync_installed(
    exported: Path, uv_project: Path
) -> None:
    lock = read_lock(exported)
    assert isinstance(lock, PylockFile)
    assert lock.project_name == "demo"
    env = inspect_environment(uv_project / ".venv")
    selection = lock.select(env.marker_environment(), tags=env.supported_tags())
    installed = {d.canonical_name: d.version for d in read_inventory(env).distributions}
    versions = {p.name: p.version for p in selection.packages}
    # Editable directories carry no version in a pylock: the directory is the source.
    assert versions == installed | {"demo": None, "libpkg": None}
    sources: dict[str, tuple[str, str | None]] = {
        p.name: (p.source, p.location) for p in selection.packages
    }
    assert sources["demo"] == ("editable", uv_project.as_uri())
    assert sources["alpha"][0] == "index"
    assert [(p.name, marker) for p, marker in selection.skipped] == [
        ("winonly", 'sys_platform == "win32"'),
        ("winonly-dep", 'sys_platform == "win32"'),
    ]
    assert selection.description.endswith("wheels for its tags")
    # Without tags given, a CPython env's own on this machine; elsewhere any wheel will do.
    assert lock.select(env.marker_environment()).description.endswith("wheels for its tags")
    windows = {**env.marker_environment(), "sys_platform": "win32"}
    assert lock.select(windows).description.endswith("any wheel (tags not checked)")


def test_drift_against_a_pylock(
    exported: Path, uv_project: Path, local_index: LocalIndex, tmp_path: Path
) -> None:
    code, data = drift_json(uv_project / ".venv", exported)
    assert code == 0 and data["summary"] == "in-sync"
    assert statuses(data)["winonly"] == "not-applicable"
    env = make_env(tmp_path / "env", local_index, ["alpha==1.0", "beta==2.0", "stray==1.0"])
    code, data = drift_json(env, exported)
    assert code == 1 and data["untracked"] == ["stray"]
    found = statuses(data)
    assert found["alpha"] == "mismatch" and found["devtool"] == "missing"
    assert found["demo"] == "missing" and found["beta"] == "ok"


#: A pylock with the standard's own groups, extras and environment markers (HASH: a
#: sha256 packaging checks the form of; nothing is downloaded).
HANDWRITTEN = """
lock-version = "1.0"
created-by = "hand"
extras = ["docs"]
dependency-groups = ["dev", "test"]
default-groups = ["dev"]

[[packages]]
name = "alpha"
version = "1.0"
index = "https://user:secret@example.invalid/simple"
wheels = [{ url = "https://example.invalid/alpha-1.0-py3-none-any.whl", hashes = HASH }]

[[packages]]
name = "devtool"
version = "1.0"
marker = "'dev' in dependency_groups"
wheels = [{ url = "https://example.invalid/devtool-1.0-py3-none-any.whl", hashes = HASH }]

[[packages]]
name = "gamma"
version = "1.5"
marker = "'test' in dependency_groups"
sdist = { url = "https://example.invalid/gamma-1.5.tar.gz", hashes = HASH }

[[packages]]
name = "opt"
version = "1.0"
marker = "'docs' in extras"
archive = { url = "https://example.invalid/opt-1.0.zip", hashes = HASH }

[[packages]]
name = "winonly"
version = "1.0"
marker = "sys_platform == 'win32' and 'dev' in dependency_groups"
wheels = [{ url = "https://example.invalid/winonly-1.0-cp311-cp311-win_amd64.whl", hashes = HASH }]

[[packages]]
name = "vcspkg"
version = "2.0"
vcs = { type = "git", url = "https://example.invalid/r.git", commit-id = "abc123" }

[[packages]]
name = "native"
version = "3.0"
wheels = [{ url = "https://example.invalid/native-3.0-cp27-cp27m-win32.whl", hashes = HASH }]
""".replace("HASH", '{ sha256 = "' + "0" * 64 + '" }')


@pytest.fixture
def handwritten(tmp_path: Path) -> Path:
    path = tmp_path / "pylock.dev.toml"
    path.write_text(HANDWRITTEN)
    return path


def test_groups_extras_and_markers_of_a_handwritten_pylock(handwritten: Path) -> None:
    assert lock_tool(handwritten) == "pylock"
    lock = read_lock(handwritten)
    assert lock.groups == ("dev", "test", "extra:docs")
    assert lock.default_groups == ("dev",)
    marker_env = {"sys_platform": "linux", "python_full_version": "3.11.7"}
    marker_env.update(platform_python_implementation="CPython")
    chosen = lock.select(marker_env)
    assert [p.name for p in chosen.packages] == ["alpha", "devtool", "native", "vcspkg"]
    assert [p.name for p, _ in chosen.skipped] == ["winonly"]  # not gamma: only its group is off
    assert "groups dev (the lock's default groups)" in chosen.description
    other = lock.select(marker_env, groups=["test", "extra:docs"])
    kinds: dict[str, tuple[str, str | None]] = {
        p.name: (p.source, p.location) for p in other.packages
    }
    assert kinds["gamma"] == ("index", None)
    assert kinds["opt"] == ("url", "https://example.invalid/opt-1.0.zip")
    assert kinds["vcspkg"] == ("vcs", "git+https://example.invalid/r.git@abc123")
    assert kinds["alpha"] == ("index", "https://example.invalid/simple")  # never the secret
    assert "devtool" not in kinds


def test_a_wheel_for_no_tag_of_the_environment_is_a_one_line_error(handwritten: Path) -> None:
    lock = read_lock(handwritten)
    this_python = {key: str(value) for key, value in default_environment().items()}
    for tags in (cpython_wheel_tags((3, 11)), None):  # given, or told by the markers
        with pytest.raises(RequirementsError) as caught:
            lock.select({**this_python, "python_full_version": "3.11.7"}, tags=tags)
        message = str(caught.value)
        assert message.startswith(f"{handwritten}: No wheel found") and "\n" not in message
        assert "native" in message


def test_load_requirements_reads_a_pylock_for_the_environment(
    exported: Path, uv_project: Path
) -> None:
    env = inspect_environment(uv_project / ".venv")
    parsed = load_requirements(exported, environment=env.marker_environment())
    assert parsed.selection.startswith("pylock.toml: every package (the lock has no groups)")
    report = compute_drift(env, read_inventory(env), parsed)
    assert report.summary == "in-sync"


def test_a_pylock_named_through_dotdot_still_knows_its_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "proj"\n'
        'directory = { path = ".", editable = true }\n'
    )
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert read_lock(Path("../proj/pylock.toml")).project_name == "proj"


def test_an_upgrade_of_a_package_the_pylock_pins_asks_for_it_to_be_exported_again(
    exported: Path,
) -> None:
    with pytest.raises(PinnedByLockError) as caught:
        refuse_pinned(exported, this_python(), ["stray", "alpha"])
    assert str(caught.value) == (
        "alpha is pinned to 2.0 by pylock.toml: re-export pylock.toml with alpha upgraded "
        "(from the tool that wrote it) and Sync"
    )
