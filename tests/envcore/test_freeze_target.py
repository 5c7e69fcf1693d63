"""Where a plain freeze goes unless the user picks the requirements file itself: a new lock
file beside the requirements, never over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore.ops import default_freeze_target


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        ("app/requirements.txt", "app/requirements.lock.txt"),
        ("app/requirements/dev.txt", "app/requirements/dev.lock.txt"),
        ("app/pyproject.toml", "app/requirements.lock.txt"),
        ("app/requirements.in", "app/requirements.lock.txt"),
        ("app/requirements.lock.txt", "app/requirements-frozen.txt"),
    ],
)
def test_a_lock_file_beside_the_requirements(
    tmp_path: Path, requirements: str, expected: str
) -> None:
    assert default_freeze_target(tmp_path / requirements, tmp_path / "app") == tmp_path / expected


def test_without_requirements_requirements_txt_unless_that_name_is_taken(tmp_path: Path) -> None:
    assert default_freeze_target(None, tmp_path) == tmp_path / "requirements.txt"
    (tmp_path / "requirements.txt").symlink_to(tmp_path / "nowhere")  # taken, even dangling
    assert default_freeze_target(None, tmp_path) == tmp_path / "requirements.lock.txt"
