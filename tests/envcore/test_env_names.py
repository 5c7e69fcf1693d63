"""An environment's display name: its directory, or `app/.venv` for a generic name, whether
or not `app` looks like a project (every environment called ".venv" is not helpful)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore.environment import inspect_environment
from tests.envcore.synthetic import posix_venv


@pytest.mark.parametrize(
    ("where", "name"),
    [
        ("scratch/.venv", "scratch/.venv"),  # no project marker beside it
        ("tools/venv", "tools/venv"),
        ("work/env", "work/env"),
        ("envs/data-science", "data-science"),  # a name of its own stays as it is
        ("proj/.tox/py312", "py312"),
    ],
)
def test_generic_names_take_the_directory_holding_them(
    tmp_path: Path, where: str, name: str
) -> None:
    posix_venv(tmp_path / where)
    env = inspect_environment(tmp_path / where)
    assert env.name == name
