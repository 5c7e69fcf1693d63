"""envcore.watchpaths: which directories a real environment needs watched, which changes in
them matter, and the mountinfo parser (against the kernel's own escaping, with hypothesis)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envcore.environment import inspect_environment
from envcore.watchpaths import (
    Mount,
    Role,
    WatchSet,
    environment_paths,
    filesystem_of,
    is_watch_unfriendly,
    parse_mountinfo,
    read_mounts,
)
from tests.envtools import make_venv


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("watch") / "shop"
    root.mkdir()
    (root / "requirements.txt").write_text("-r requirements/base.txt\n")
    (root / "requirements").mkdir()
    (root / "requirements" / "base.txt").write_text("alpha\n")
    make_venv(root / ".venv")
    return root


def _watchset(project: Path) -> tuple[WatchSet, Path]:
    env = project / ".venv"
    facts = inspect_environment(env)
    files = [project / "requirements.txt", project / "requirements" / "base.txt"]
    return WatchSet(environment_paths(facts, files)), env


def test_it_watches_a_real_venvs_directories_non_recursively(project: Path) -> None:
    env = project / ".venv"
    facts = inspect_environment(env)
    watched = environment_paths(facts, [project / "requirements.txt"])
    roles = {item.role: item.directory for item in watched if item.role is not Role.PROJECT}
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert roles == {
        Role.SITE_PACKAGES: env / "lib" / minor / "site-packages",
        Role.ENVIRONMENT: env,
        Role.BIN: env / "bin",
        Role.BASE_INTERPRETER: facts.home,
        Role.PARENT: project,
    }
    assert {item.directory for item in watched if item.role is Role.PROJECT} == {
        project,
        project / "requirements",
    }
    assert all(item.directory.is_dir() for item in watched)


@pytest.mark.parametrize(
    ("entry", "matters"),
    [
        ("alpha-1.0.dist-info", True),
        ("legacy-0.1-py3.12.egg-info", True),
        ("__editable__.shop-0.1.pth", True),
        ("distutils-precedence.pth", True),
        ("alpha", False),  # its dist-info says the same, once
        ("__pycache__", False),
        ("~lpha", False),  # pip's temporary name while it removes a package
    ],
)
def test_site_packages_changes_that_matter(project: Path, entry: str, matters: bool) -> None:
    watchset, env = _watchset(project)
    site = inspect_environment(env).site_packages[0]
    assert watchset.owners(str(site / entry)) == (frozenset({env}) if matters else frozenset())


@pytest.mark.parametrize(
    ("relative", "matters"),
    [
        (".venv/pyvenv.cfg", True),
        (".venv/bin/python", True),
        (".venv/bin/python3", True),
        (".venv/bin/pip", False),
        (".venv/lib", True),
        (".venv/.lock", False),  # uv's lock file while it installs
        ("requirements.txt", True),
        ("pyproject.toml", True),
        ("requirements/base.txt", True),
        ("requirements/dev.txt", True),  # may become the source
        ("uv.lock", True),  # a lock appearing beside requirements.txt becomes the source
        ("Pipfile.lock", True),
        ("pylock.toml", True),
        ("pylock.dev.toml", True),
        ("pylock.toml.swp", False),
        ("tox.ini", True),
        (".requirements.txt.swp", False),
        ("README.md", False),
        ("requirements/notes.md", False),
    ],
)
def test_changes_in_the_environment_and_project(
    project: Path, relative: str, matters: bool
) -> None:
    watchset, env = _watchset(project)
    assert watchset.owners(str(project / relative)) == (frozenset({env}) if matters else set())


def test_the_base_interpreter_directory_is_filtered_by_interpreter_names(project: Path) -> None:
    watchset, env = _watchset(project)
    home = inspect_environment(env).home
    assert home is not None
    assert watchset.owners(str(home / "python3.99")) == {env}
    assert watchset.owners(str(home / "ls")) == set()
    assert watchset.owners(str(home)) == {env}  # the directory itself removed


def test_a_watched_directory_removed_concerns_its_environment(project: Path) -> None:
    watchset, env = _watchset(project)
    assert watchset.owners(str(env)) == {env}
    assert watchset.owners(str(env / "bin")) == {env}
    assert watchset.owners(str(project / ".venv2")) == set()  # a sibling is another one


def test_environments_of_one_project_share_its_requirement_files(tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n')
    first, second = make_venv(project / ".venv"), make_venv(project / ".tox" / "py")
    watched = [
        *environment_paths(inspect_environment(first), [project / "pyproject.toml"]),
        *environment_paths(inspect_environment(second), [project / "pyproject.toml"]),
    ]
    watchset = WatchSet(watched)
    assert watchset.owners(str(project / "pyproject.toml")) == {first, second}
    assert watchset.environments() == {first, second}
    assert len(watchset.directories) == len(set(watchset.directories))


# --- mounts --------------------------------------------------------------------------

MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /home/ann/remote rw,relatime shared:20 - nfs4 srv:/export rw,vers=4.2
41 40 0:36 / /home/ann/remote/local\040copy rw shared:21 - tmpfs tmpfs rw
42 22 0:37 / /mnt/box rw,nosuid - fuse.sshfs ann@box: rw,user_id=0
43 22 0:38 / /mnt/c rw,noatime - 9p drvfs rw,dirsync
44 22 0:39 / /srv/data rw master:3 unbindable - cifs //nas/data rw
45 22 0:40 / /home/ann/remote2 rw - ext4 /dev/sdb1 rw
"""


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/home/ann/project/.venv", "ext4"),
        ("/home/ann/remote", "nfs4"),
        ("/home/ann/remote/x/.venv", "nfs4"),
        ("/home/ann/remote/local copy/.venv", "tmpfs"),  # \040 is a space
        ("/home/ann/remote2/.venv", "ext4"),  # a prefix of the name is not a parent
        ("/mnt/box/app/.venv/lib", "fuse.sshfs"),
        ("/mnt/c/Users/ann/venv", "9p"),
        ("/srv/data/envs/x", "cifs"),
    ],
)
def test_the_longest_mount_point_decides(path: str, fstype: str) -> None:
    assert filesystem_of(path, parse_mountinfo(MOUNTINFO)) == fstype


@pytest.mark.parametrize(
    ("fstype", "unfriendly"),
    [
        *[(name, True) for name in ("nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "9p")],
        *[(name, False) for name in ("ext4", "tmpfs", "btrfs", "overlay", "xfs")],
    ],
)
def test_network_file_systems_are_watch_unfriendly(fstype: str, unfriendly: bool) -> None:
    assert is_watch_unfriendly(fstype) is unfriendly


def test_a_later_mount_on_the_same_point_hides_the_earlier() -> None:
    text = "1 0 0:1 / / rw - ext4 a rw\n2 1 0:2 / /x rw - ext4 b rw\n3 1 0:3 / /x rw - nfs c rw\n"
    assert filesystem_of("/x/y", parse_mountinfo(text)) == "nfs"


def test_lines_without_the_separator_are_skipped() -> None:
    assert parse_mountinfo("garbage\n1 2 3\n\n1 0 0:1 / / rw - ext4 a rw\n") == (
        Mount("/", "ext4"),
    )


def test_this_machines_mounts_are_read() -> None:
    mounts = read_mounts()
    if sys.platform == "linux":
        assert filesystem_of(os.path.realpath(__file__), mounts) != ""
    assert read_mounts(Path("/nonexistent/mountinfo")) == ()


def _kernel_escape(path: str) -> bytes:
    """What the kernel's seq_file does to a mount point (show_mountinfo, mangle)."""
    return b"".join(
        b"\\%03o" % byte if byte in b" \t\n\\" else bytes([byte]) for byte in os.fsencode(path)
    )


_segment = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"),
    min_size=1,
    max_size=12,
)


@given(st.lists(_segment, min_size=1, max_size=4), st.sampled_from(["nfs4", "ext4", "9p"]))
def test_mount_points_round_trip_through_the_kernels_escaping(
    segments: list[str], fstype: str
) -> None:
    point = "/" + "/".join(segments)
    line = b"36 35 98:0 / " + _kernel_escape(point) + f" rw master:1 - {fstype} src rw".encode()
    text = (b"1 0 0:1 / / rw - ext4 root rw\n" + line + b"\n").decode("latin-1")
    (root, mount) = parse_mountinfo(text)
    assert root == Mount("/", "ext4")
    assert mount == Mount(point, fstype)
    assert filesystem_of(point + "/inside", (root, mount)) == fstype


def test_a_home_that_does_not_hold_the_interpreter_is_not_watched(tmp_path: Path) -> None:
    # pyvenv.cfg comes from the disk: `home = /proc` (or a directory of a million entries)
    # must not choose what the watcher looks at.
    env = make_venv(tmp_path / ".venv")
    config = env / "pyvenv.cfg"
    planted = tmp_path / "planted"
    planted.mkdir()
    lines = config.read_text().splitlines()
    config.write_text(
        "\n".join(f"home = {planted}" if line.startswith("home") else line for line in lines)
    )
    watched = environment_paths(inspect_environment(env))
    assert Role.BASE_INTERPRETER not in {item.role for item in watched}
    assert planted not in {item.directory for item in watched}
