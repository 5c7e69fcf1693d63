"""Planted FIFOs, devices and huge files: every command finishes in seconds with one line.

Each command runs in its own process with a timeout and a 1 GiB address-space limit, so
code that blocks in open() or reads without bound fails here instead of hanging the suite
or filling the machine's memory.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from envcore._files import METADATA_LIMIT, TEXT_LIMIT, read_bytes
from envcore.distributions import read_headers
from tests.envcore.synthetic import PY, dist_info, posix_venv

GiB = 1024**3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GiB, GiB))


def _run(*argv: str) -> str:
    """stdout + stderr of a python process that must end within 30 s, without a traceback."""
    result = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def _project(root: Path) -> tuple[Path, Path]:
    """root/p with a requirements file and a venv holding one package: (project, site)."""
    project = root / "p"
    site = posix_venv(project / ".venv")
    dist_info(site, "alpha", "1.0")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    return project, site


def _include(target: str) -> Callable[[Path], None]:
    def plant(project: Path) -> None:
        (project / "requirements.txt").write_text(f"alpha==1.0\n-r {target}\n")

    return plant


def _fifo_include(project: Path) -> None:
    os.mkfifo(project / "hang.fifo")
    _include("hang.fifo")(project)


def _dev_zero_link(project: Path) -> None:
    (project / "zero.txt").symlink_to("/dev/zero")
    _include("zero.txt")(project)


def _sparse(project: Path) -> None:
    with (project / "huge.txt").open("wb") as handle:
        handle.truncate(3 * GiB)
    _include("huge.txt")(project)


@pytest.mark.parametrize(
    ("plant", "reason"),
    [
        (_fifo_include, "hang.fifo: not a regular file (a FIFO)"),
        (_include("/dev/zero"), "/dev/zero: not a regular file (a character device)"),
        (_dev_zero_link, "zero.txt: not a regular file (a character device)"),
        (_sparse, "huge.txt: larger than 10 MiB"),
    ],
    ids=["fifo", "dev-zero", "link-to-dev-zero", "sparse-3gb"],
)
def test_drift_reports_an_included_file_it_must_not_read(
    tmp_path: Path, plant: Callable[[Path], None], reason: str
) -> None:
    project, _ = _project(tmp_path)
    plant(project)
    output = _run("-m", "envcore", "drift", str(project / ".venv"))
    lines = [line for line in output.splitlines() if reason in line]
    assert len(lines) == 1 and "cannot read requirements file" in lines[0], output


def test_a_fifo_as_metadata_is_one_warning_and_the_env_stays_listed(tmp_path: Path) -> None:
    _, site = _project(tmp_path)
    planted = site / "ff-1.0.dist-info"
    planted.mkdir()
    os.mkfifo(planted / "METADATA")
    scanned = _run("-m", "envcore", "scan", "--json", str(tmp_path))
    assert '"packages": 1' in scanned and "not a regular file (a FIFO)" in scanned
    listed = _run("-m", "envcore", "list", str(tmp_path / "p" / ".venv"))
    assert "alpha" in listed and "not a regular file (a FIFO)" in listed


@pytest.mark.parametrize(
    ("planted", "command"),
    [
        (".project", "list"),
        ("lib/python{PY}/site-packages/alpha-1.0.dist-info/direct_url.json", "list"),
        ("lib/python{PY}/site-packages/alpha.egg-link", "list"),
        ("lib/python{PY}/site-packages/alpha-1.0.dist-info/WHEEL", "check"),
    ],
)
def test_a_fifo_next_to_the_metadata_does_not_stop_a_command(
    tmp_path: Path, planted: str, command: str
) -> None:
    _project(tmp_path)
    env = tmp_path / "p" / ".venv"
    os.mkfifo(env / planted.format(PY=PY))
    output = _run("-m", "envcore", command, str(env))
    assert command == "check" or "alpha" in output


def test_pyvenv_cfg_swapped_for_a_fifo_after_the_check_is_refused(tmp_path: Path) -> None:
    """Discovery and inspect check is_file() first; the read itself must not block either."""
    os.mkfifo(tmp_path / "pyvenv.cfg")
    code = (
        "import sys; from pathlib import Path; from envcore.environment import _read_pyvenv_cfg\n"
        "try: _read_pyvenv_cfg(Path(sys.argv[1]))\nexcept Exception as exc: print(exc)"
    )
    output = _run("-c", code, str(tmp_path / "pyvenv.cfg"))
    assert output == f"cannot read {tmp_path}/pyvenv.cfg: not a regular file (a FIFO)\n"


def test_a_fifo_as_git_config_leaves_the_directory_identity(tmp_path: Path) -> None:
    project, _ = _project(tmp_path)
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.mkfifo(project / ".git" / "config")
    code = "import sys; from envcore.snapshot import project_identity as p; print(p(sys.argv[1]))"
    assert "dir:p" in _run("-c", code, str(project))


def test_the_header_block_is_read_in_linear_time(tmp_path: Path) -> None:
    """20 MB of header without a blank line took 29 s (each chunk searched all before it)."""
    metadata = tmp_path / "METADATA"
    with metadata.open("wb") as handle:
        handle.write(b"Metadata-Version: 2.1\nName: big\nVersion: 1.0\n")
        handle.truncate(20 * 1024 * 1024)
    started = time.perf_counter()
    headers = read_headers(str(metadata), frozenset({"name", "version"}))
    assert time.perf_counter() - started < 2
    assert headers == {"name": ["big"], "version": ["1.0"]}


def test_a_header_block_above_the_limit_is_refused_but_a_long_body_is_not(
    tmp_path: Path,
) -> None:
    endless = tmp_path / "endless"
    with endless.open("wb") as handle:
        handle.truncate(METADATA_LIMIT + 1)
    with pytest.raises(OSError, match="larger than 64 MiB"):
        read_bytes(endless, METADATA_LIMIT, until_blank_line=True)
    long_body = tmp_path / "long-body"
    with long_body.open("wb") as handle:
        handle.write(b"Name: x\n\n")
        handle.truncate(METADATA_LIMIT * 2)
    assert read_bytes(long_body, METADATA_LIMIT, until_blank_line=True).startswith(b"Name: x\n\n")


def test_a_file_at_the_limit_is_read_whole(tmp_path: Path) -> None:
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * TEXT_LIMIT)
    assert len(read_bytes(exact)) == TEXT_LIMIT
    exact.write_bytes(b"x" * (TEXT_LIMIT + 1))
    with pytest.raises(OSError, match="larger than 10 MiB"):
        read_bytes(exact)
