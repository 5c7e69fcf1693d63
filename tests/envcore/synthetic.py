"""Synthetic environment trees, for layouts that cannot be created on this machine."""

from __future__ import annotations

import sys
from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
BASE_HOME = str(Path(sys.base_prefix) / "bin")


def dist_info(site: Path, name: str, version: str, *requires: str, summary: str = "") -> Path:
    directory = site / f"{name.replace('-', '_')}-{version}.dist-info"
    directory.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if summary:
        lines.append(f"Summary: {summary}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    (directory / "METADATA").write_text("\n".join(lines) + "\n\nBody text.\n")
    (directory / "INSTALLER").write_text("pip\n")
    return directory


def posix_venv(
    path: Path, *, home: str = BASE_HOME, extra_cfg: str = "", python_target: str | None = None
) -> Path:
    """A POSIX venv tree; `python_target` is where bin/python points (default: base python)."""
    (path / "bin").mkdir(parents=True)
    site = path / "lib" / f"python{PY}" / "site-packages"
    site.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(
        f"home = {home}\ninclude-system-site-packages = false\nversion = {PY}.7\n{extra_cfg}"
    )
    (path / "bin" / "python").symlink_to(python_target or sys.base_prefix + "/bin/python3")
    return site


def windows_venv(path: Path) -> Path:
    (path / "Scripts").mkdir(parents=True)
    (path / "Scripts" / "python.exe").write_bytes(b"MZ")
    site = path / "Lib" / "site-packages"
    site.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(
        "home = C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python312\n"
        "implementation = CPython\nvirtualenv = 20.26.0\n"
        "include-system-site-packages = false\nversion_info = 3.12.4.final.0\n"
        "prompt = winproj\n"
    )
    return site


def conda_env(path: Path, version: str = "3.10.14") -> Path:
    (path / "conda-meta").mkdir(parents=True)
    (path / "conda-meta" / f"python-{version}-h955ad1f_0.json").write_text("{}")
    (path / "conda-meta" / "history").write_text("")
    (path / "bin").mkdir()
    (path / "bin" / "python").symlink_to(sys.base_prefix + "/bin/python3")
    site = path / "lib" / f"python{version.rsplit('.', 1)[0]}" / "site-packages"
    site.mkdir(parents=True)
    return site
