"""`python3 manage.py serve` on a fresh machine: the set-up keeps the installers' output in a
log and says one short line per step, and one line naming the log when a step fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_failing_step_says_one_line_and_names_the_log(tmp_path: Path) -> None:
    # A copy of what runs before any dependency exists, and a requirement no index has.
    tree = tmp_path / "tree"
    (tree / "dashboard").mkdir(parents=True)
    for name in ("manage.py", "pyproject.toml", "setup.py", "dashboard/bootstrap.py"):
        shutil.copy2(REPO / name, tree / name)
    (tree / "dashboard" / "__init__.py").touch()
    (tree / "requirements.txt").write_text("envdash-no-such-distribution==1.0\n")
    # A venv that is there but not yet filled; ensurepip would take ~10 s to give it the pip
    # this venv lends it.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site = env_dir / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    (site / "lent-pip.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Offline and deterministic: no index, and none of this machine's pip settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "ENVDASH_"))}
    env |= {"ENVDASH_VENV": str(env_dir), "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}

    result = subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    log = env_dir / "envdash-setup.log"
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "envdash: updating pip …",
        "envdash: installing dependencies …",
    ]
    (line,) = result.stderr.splitlines()
    # pip's last ERROR line (without an index, building `-e .` fails first).
    assert line.startswith("envdash: installing dependencies failed (exit status 1): ERROR: ")
    assert line.endswith(f". The whole output is in {log}")
    # pip's whole say, both steps, is in the log.
    output = log.read_text()
    assert f"$ {env_dir / 'bin' / 'python'} -m pip install" in output
    assert "Requirement already satisfied: pip" in output
    assert "Could not find a version that satisfies the requirement setuptools" in output


def test_a_directory_it_did_not_set_up_is_left_alone(tmp_path: Path) -> None:
    # ENVDASH_VENV naming a directory with someone's files and no interpreter: the set-up
    # refuses in one line instead of emptying it to make a venv there.
    target = tmp_path / "work"
    target.mkdir()
    (target / "notes.txt").write_text("keep me\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVDASH_")}
    env["ENVDASH_VENV"] = str(target)

    result = subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"envdash: {target} is not empty and was not set up by envdash; "
        "remove it or set ENVDASH_VENV to another directory"
    ]
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "keep me\n"
