"""Upgrading a package a lock pins: refused in one line naming the lock tool's own command,
before anything runs (envcore.locks.pins, and `held_to` of envcore.ops' upgrades), on a
real `uv lock`ed and `uv sync`ed project. poetry, pipenv and pylock: in their real tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore import ops
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.errors import PinnedByLockError, RequirementsError
from envcore.locks.pins import pinned_refusal, refuse_pinned
from tests.envcore.locks.conftest import this_python


@pytest.mark.parametrize(
    ("lock", "names", "versions", "every", "expected"),
    [
        (
            "uv.lock",
            ["alpha"],
            ["1.0"],
            False,
            "alpha is pinned to 1.0 by uv.lock: update the lock "
            "(uv lock --upgrade-package alpha) and Sync",
        ),
        (
            "poetry.lock",
            ["alpha"],
            ["1.0"],
            False,
            "alpha is pinned to 1.0 by poetry.lock: update the lock (poetry update alpha) and Sync",
        ),
        (
            "Pipfile.lock",
            ["alpha"],
            ["1.0"],
            False,
            "alpha is pinned to 1.0 by Pipfile.lock: update the lock (pipenv update alpha) "
            "and Sync",
        ),
        (
            "pylock.toml",
            ["alpha"],
            ["1.0"],
            False,
            "alpha is pinned to 1.0 by pylock.toml: re-export pylock.toml with alpha upgraded "
            "(from the tool that wrote it) and Sync",
        ),
        (
            "uv.lock",
            ["alpha", "gitpkg"],
            ["1.0", None],
            False,
            "alpha 1.0, gitpkg are pinned by uv.lock: update the lock "
            "(uv lock --upgrade-package alpha --upgrade-package gitpkg) and Sync",
        ),
        (
            "poetry.lock",
            ["alpha", "beta"],
            ["1.0", "2.0"],
            True,
            "alpha 1.0, beta 2.0 are pinned by poetry.lock: update the lock (poetry update) "
            "and Sync",
        ),
        (
            "pylock.dev.toml",
            ["alpha", "beta"],
            ["1.0", "2.0"],
            True,
            "alpha 1.0, beta 2.0 are pinned by pylock.dev.toml: re-export pylock.dev.toml with "
            "newer versions (from the tool that wrote it) and Sync",
        ),
    ],
)
def test_the_refusal_names_the_lock_tools_own_command(
    lock: str, names: list[str], versions: list[str | None], every: bool, expected: str
) -> None:
    assert pinned_refusal(names, versions, Path("/p") / lock, every=every) == expected


def _versions(env: Path) -> dict[str, str]:
    inventory = read_inventory(inspect_environment(env))
    return {dist.canonical_name: dist.version for dist in inventory.distributions}


def test_an_upgrade_of_a_package_the_lock_pins_is_refused_before_anything_runs(
    uv_project: Path,
) -> None:
    env, lock = uv_project / ".venv", uv_project / "uv.lock"
    before = _versions(env)
    refusal = (
        "alpha is pinned to 2.0 by uv.lock: update the lock (uv lock --upgrade-package alpha) "
        "and Sync"
    )
    for target in ("allowed", "latest", "1.0"):
        with pytest.raises(PinnedByLockError) as caught:
            ops.upgrade(env, "alpha", target, held_to=lock)
        assert str(caught.value) == refusal
    with pytest.raises(PinnedByLockError, match=r"^Beta is pinned to 2\.0 by uv\.lock"):
        ops.install(env, ["stray==1.0", "Beta==2.0"], held_to=lock)
    assert _versions(env) == before


def test_what_the_lock_does_not_select_for_the_environment_passes(uv_project: Path) -> None:
    """stray is in no lock; winonly is locked for Windows only; lint's gamma is a group
    `uv sync` leaves out: none of them is pinned in this environment."""
    facts = inspect_environment(uv_project / ".venv")
    lock = uv_project / "uv.lock"
    refuse_pinned(lock, facts.marker_environment(), ["stray", "winonly", "gamma"])
    with pytest.raises(PinnedByLockError, match=r"^devtool is pinned to 1\.1 by uv\.lock"):
        refuse_pinned(lock, this_python(), ["devtool"])  # the dev group: by default


def test_a_lock_outside_the_roots_is_not_read(uv_project: Path, tmp_path: Path) -> None:
    with pytest.raises(RequirementsError, match="outside the scan roots"):
        refuse_pinned(uv_project / "uv.lock", this_python(), ["stray"], roots=[tmp_path])
