"""Issue 13 as it happened: the user's pip configuration names a main index and an extra
one holding only an old release, plus a constraints file. Install, upgrade, sync and plan +
apply must leave the same installed set with uv as with pip (checked by pip itself), and a
setting uv cannot honour makes `auto` run pip and say why."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from envcore.ops import (
    BackendChoice,
    Context,
    Log,
    OperationResult,
    apply_plan,
    find_uv,
    install,
    plan_sync,
    sync,
    upgrade,
)
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import make_venv, pip, pip_list_json
from tests.wheelmaker import write_wheel

BACKENDS = ["pip", "uv"]

#: What pip's best match across both indexes, under the constraint, installs.
EXPECTED = {"capped": "1.0", "fresh": "2.0", "shared": "2.0"}


@dataclass(frozen=True)
class Indexes:
    main: str
    extra: str
    constraints: Path


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexes]:
    """main: shared 1.0 and 2.0, fresh 1.0, capped 1.0 and 2.0. extra: only the OLD shared
    1.0, and the NEW fresh 2.0 (the best match lies on the extra index for that one).
    The constraints file caps `capped`, which shared 2.0 needs."""
    files = tmp_path_factory.mktemp("two-indexes")
    main, extra = IndexState(), IndexState()
    for version in ("1.0", "2.0"):
        main.publish(write_wheel(files / "main", "capped", version))
    main.publish(write_wheel(files / "main", "shared", "1.0"))
    main.publish(write_wheel(files / "main", "shared", "2.0", requires=["capped"]))
    main.publish(write_wheel(files / "main", "fresh", "1.0"))
    extra.publish(write_wheel(files / "extra", "shared", "1.0"))
    extra.publish(write_wheel(files / "extra", "fresh", "2.0"))
    constraints = files / "constraints.txt"
    constraints.write_text("capped<2\n")
    with serve_index(main) as main_url, serve_index(extra) as extra_url:
        yield Indexes(main_url, extra_url, constraints)


@pytest.fixture
def pip_conf(tmp_path: Path, indexes: Indexes, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's pip.conf, and nothing of this machine's: no /etc/xdg/pip (pip reads
    $XDG_CONFIG_DIRS/pip), no ~/.config/pip (skipped once PIP_CONFIG_FILE names a file)."""
    config = tmp_path / "pip.conf"
    config.write_text(
        f"[global]\nindex-url = {indexes.main}\nextra-index-url = {indexes.extra}\n"
        f"constraint = {indexes.constraints}\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-site-config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    return config


def installed(env: Path) -> dict[str, str]:
    """The installed set as pip itself lists it."""
    return {row["name"]: row["version"] for row in pip_list_json(env)}


def _env_with_old_shared(path: Path, indexes: Indexes) -> Path:
    env = make_venv(path)
    pip("install", "--quiet", "--no-deps", f"--index-url={indexes.main}", "shared==1.0", env=env)
    return env


def _check_uv_translation(result: OperationResult, indexes: Indexes) -> None:
    argv = result.commands[-1].argv
    assert result.backend == "uv" and Path(argv[0]).name == "uv"
    assert f"--index-url={indexes.main}" in argv and f"--extra-index-url={indexes.extra}" in argv
    assert "--index-strategy=unsafe-best-match" in argv
    assert f"--constraints={indexes.constraints}" in argv


def test_the_situation_is_real_uv_alone_refuses_what_pip_installs(
    tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    """Without envdash's translation uv takes the extra index's old release (first index
    wins) and cannot install the pin pip installs: the failure of issue 13."""
    env = make_venv(tmp_path / "env")
    uv = [str(find_uv()), "pip", "install", "--no-config", "--python", str(env / "bin/python")]
    indexes_only = [f"--index-url={indexes.main}", f"--extra-index-url={indexes.extra}"]
    child = subprocess.run(
        [*uv, *indexes_only, "--", "shared==2.0"], capture_output=True, text=True, timeout=300
    )
    assert child.returncode != 0 and "unsafe-best-match" in child.stderr
    pip("install", "--quiet", "shared==2.0", env=env)  # pip reads pip.conf: both indexes
    assert installed(env)["shared"] == "2.0"


@pytest.mark.parametrize("backend", BACKENDS)
def test_install_reaches_pips_result(
    backend: str, tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    env = make_venv(tmp_path / "env")
    result = install(env, ["shared", "fresh"], context=Context(installer=backend))
    assert installed(env) == EXPECTED
    if backend == "uv":
        _check_uv_translation(result, indexes)
    else:  # pip reads its configuration itself
        assert not any(
            arg.startswith(("--index-url", "--constraint")) for arg in result.commands[0].argv
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_to_a_version_only_the_main_index_has(
    backend: str, tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    env = _env_with_old_shared(tmp_path / "env", indexes)
    result = upgrade(env, "shared", "2.0", context=Context(installer=backend))
    assert installed(env) == {"capped": "1.0", "shared": "2.0"}
    assert result.changes == ("+ capped 1.0", "~ shared 1.0 -> 2.0")
    if backend == "uv":
        _check_uv_translation(result, indexes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_and_plan_apply_reach_pips_result(
    backend: str, tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("shared==2.0\nfresh\n")
    synced = _env_with_old_shared(tmp_path / "synced", indexes)
    result = sync(synced, requirements, context=Context(installer=backend))
    assert installed(synced) == EXPECTED
    if backend == "uv":
        _check_uv_translation(result, indexes)
    planned = _env_with_old_shared(tmp_path / "planned", indexes)
    plan = plan_sync(planned, requirements, context=Context(installer=backend))
    assert plan.installer == backend
    assert {c.name: c.after for c in plan.changes} == EXPECTED
    assert "--index-strategy=unsafe-best-match" in plan.dry_run_argv or backend == "pip"
    apply_plan(plan, context=Context(installer=backend))
    assert installed(planned) == EXPECTED


def test_a_setting_uv_cannot_honour_makes_auto_run_pip_and_say_why(
    tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    pip_conf.write_text(pip_conf.read_text() + "prefer-binary = yes\n")
    chosen: list[BackendChoice] = []
    env = make_venv(tmp_path / "env")
    context = Context(installer="auto", log=Log(on_installer=chosen.append))
    result = install(env, ["shared", "fresh"], context=context)
    assert result.backend == "pip" and Path(result.commands[0].argv[0]) == Path(sys.executable)
    why = f"uv cannot honour pip's `prefer-binary` setting (from {pip_conf} [global])"
    assert [choice.describe() for choice in chosen] == [f"installer: pip — {why}"]
    assert installed(env) == EXPECTED


def test_uvs_own_settings_do_not_change_the_result(
    tmp_path: Path, indexes: Indexes, pip_conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A UV_ variable or a uv.toml in the project (the job's working directory) would send
    uv elsewhere than pip: envdash gives uv the pip configuration and nothing else."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "uv.toml").write_text('[pip]\nindex-strategy = "first-index"\nno-index = true\n')
    (project / "pyproject.toml").write_text('[tool.uv.pip]\nresolution = "lowest"\n')
    monkeypatch.setenv("UV_RESOLUTION", "lowest")
    monkeypatch.setenv("UV_INDEX_STRATEGY", "first-index")
    monkeypatch.delenv("UV_NO_CONFIG")  # the test suite's own isolation, not envdash's
    env = make_venv(project / ".venv")
    result = install(env, ["shared", "fresh"], context=Context(installer="uv"))
    assert installed(env) == EXPECTED
    assert result.commands[0].argv[3] == "--no-config"


def test_index_credentials_never_reach_the_log_or_the_plan(
    tmp_path: Path, indexes: Indexes, pip_conf: Path
) -> None:
    """A private index's `user:token@` goes to uv on its command line, and nowhere else:
    the log's command lines and the stored plan show `user:****@`."""
    secret_main = indexes.main.replace("://", "://alice:s3cret-token@", 1)
    pip_conf.write_text(pip_conf.read_text().replace(indexes.main, secret_main))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("shared==2.0\nfresh\n")
    env = _env_with_old_shared(tmp_path / "env", indexes)
    logged: list[tuple[str, ...]] = []
    context = Context(installer="uv", log=Log(on_command=logged.append))
    plan = plan_sync(env, requirements, context=context)
    apply_plan(plan, context=context)
    assert installed(env) == EXPECTED  # uv had the real URL
    shown = secret_main.replace("s3cret-token", "****")
    assert f"--index-url={shown}" in plan.dry_run_argv
    assert any(f"--index-url={shown}" in argv for argv in logged)
    everything = repr(logged) + json.dumps(plan.to_json()) + repr(plan.dry_run_argv)
    assert "s3cret-token" not in everything
