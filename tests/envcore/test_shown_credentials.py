"""Credentials written in a Pipfile or requirements file are masked wherever envcore
shows what it read (drift, reqs), as pip masks them and every lock reader drops them; the
installer alone is given the real URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envcore.requirements import load_requirements
from tests.envtools import make_venv

PIPFILE = """[[source]]
url = "https://user:s3cret@pypi.example/simple"
name = "private"

[packages]
bar = {git = "https://tok:s3cret@github.example/x/bar.git", ref = "main"}
six = "==1.0"
"""
REQUIREMENTS = """--index-url https://user:s3cret@pypi.example/simple
--extra-index-url https://other:s3cret@mirror.example/simple
bar @ git+https://tok:s3cret@github.example/x/bar.git@main
-e git+https://tok:s3cret@github.example/x/baz.git#egg=baz
six==1.0
"""


def envcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcore", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("name", "content"), [("Pipfile", PIPFILE), ("req.txt", REQUIREMENTS)])
def test_drift_and_reqs_never_show_a_secret(tmp_path: Path, name: str, content: str) -> None:
    env = make_venv(tmp_path / ".venv")
    source = tmp_path / name
    source.write_text(content)
    for args in (
        ["drift", str(env), "-r", str(source), "--json"],
        ["drift", str(env), "-r", str(source)],
        ["reqs", str(source), "--json"],
        ["reqs", str(source)],
    ):
        result = envcore(*args)
        assert "s3cret" not in result.stdout + result.stderr, args
    shown = envcore("drift", str(env), "-r", str(source), "--json").stdout
    assert "git+https://tok:****@github.example/x/bar.git@main" in shown
    # What the installer is given keeps them.
    urls = [entry.url for entry in load_requirements(source).entries if entry.url]
    assert all("s3cret" in url for url in urls) and urls
