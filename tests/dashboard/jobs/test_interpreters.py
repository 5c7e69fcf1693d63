"""Interpreters come only from trusted places: a planted `python3` named by a scanned
pyvenv.cfg is never run (scan, interpreter refresh, pages, recreate), and a probe never
sees the dashboard's secrets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.interpreters import refresh_interpreters
from dashboard.jobs.models import Interpreter, Job
from dashboard.models import Environment
from dashboard.tasks import scan
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import work
from tests.envtools import make_venv

pytestmark = pytest.mark.django_db(transaction=True)


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def planted(tmp_path: Path, settings: SettingsWrapper) -> tuple[Environment, Path]:
    """A real venv whose pyvenv.cfg `home` names a directory holding a planted python."""
    settings.SCAN_ROOTS = [tmp_path]
    settings.INSTALLER = "pip"
    marker = tmp_path / "ran"
    home = tmp_path / "clone" / "tools"
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for name in (f"python{minor}", "python3", "python"):
        _script(home / name, f"touch {marker}")
    env = make_venv(tmp_path / "clone" / ".venv")
    cfg = env / "pyvenv.cfg"
    lines = cfg.read_text().splitlines(keepends=True)
    cfg.write_text("".join(f"home = {home}\n" if ln.startswith("home") else ln for ln in lines))
    scan.call()  # the full scan task: scan, then refresh the interpreters
    row = Environment.objects.get(path=str(env))
    assert row.base_interpreter.startswith(str(home))
    return row, marker


def test_a_planted_interpreter_is_never_run_nor_offered(planted: tuple[Environment, Path]) -> None:
    env, marker = planted
    assert not marker.exists()
    refresh_interpreters()
    assert not marker.exists()
    assert Interpreter.objects.exists()
    assert not Interpreter.objects.filter(path__startswith=str(marker.parent)).exists()
    client = log_in(Client())
    create = client.get("/environments/new/").content.decode()
    confirm = client.post(f"/environments/{env.pk}/jobs/recreate/").content.decode()
    assert "tools/python" not in create
    assert not marker.exists()
    assert "is not one found on this machine; preselected: the nearest" in confirm
    client.post(f"/environments/{env.pk}/jobs/recreate/", {"confirmed": "1"})
    work()
    job = Job.objects.get()
    # Rebuilt with the trusted interpreter nearest to its version, never the planted one.
    assert job.state == "succeeded", job.summary
    assert Interpreter.objects.filter(path=job.params["interpreter"]).exists()
    assert not job.params["interpreter"].startswith(str(marker.parent))
    assert not marker.exists()
    assert (Path(env.path) / "pyvenv.cfg").is_file()


def test_recreate_without_a_choice_uses_the_trusted_base(
    tmp_path: Path, settings: SettingsWrapper, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    settings.INSTALLER = "pip"
    make_venv(tmp_path / "app" / ".venv")
    scan.call()
    env = Environment.objects.get()
    client = log_in(Client())
    client.post(f"/environments/{env.pk}/jobs/recreate/", {"confirmed": "1"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    chosen = Interpreter.objects.get(path=job.params["interpreter"])
    assert os.path.realpath(chosen.path) == os.path.realpath(env.base_interpreter)


def test_settings_adds_and_removes_an_interpreter_probed_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDASH_TOKEN", "login-secret")
    monkeypatch.setenv("ENVDASH_TEAM_TOKEN", "team-secret")
    seen = tmp_path / "seen-environment"
    base = os.path.realpath(Path(sys.base_prefix) / "bin" / "python3")
    wrapper = _script(tmp_path / "opt" / "python3", f'env > {seen}\nexec {base} "$@"')
    client = log_in(Client())
    for bad in ("python3", str(tmp_path / "missing"), str(tmp_path), sys.executable):
        page = client.post("/settings/", {"action": "add-interpreter", "interpreter": bad})
        assert page.status_code == 400
        assert not Interpreter.objects.filter(path=bad).exists()
    added = client.post("/settings/", {"action": "add-interpreter", "interpreter": str(wrapper)})
    assert added.status_code == 302
    row = Interpreter.objects.get(path=str(wrapper))
    assert row.source == "user" and row.version == ".".join(map(str, sys.version_info[:3]))
    seen_text = seen.read_text()
    assert "secret" not in seen_text and "ENVDASH" not in seen_text
    assert "PATH=/usr/bin:/bin\n" in seen_text
    seen.unlink()
    refresh_interpreters()  # the worker probes it again, with the same scrubbed environment
    assert Interpreter.objects.get(path=str(wrapper)).source == "user"
    assert "secret" not in seen.read_text()
    assert str(wrapper) in log_in(Client()).get("/settings/").content.decode()
    for bad in ("abc", "", "999999"):
        refused = client.post("/settings/", {"action": "remove-interpreter", "interpreter": bad})
        assert refused.status_code == 400
    found = Interpreter.objects.exclude(source="user").first()
    assert found is not None  # found on PATH and the like: not removable here
    client.post("/settings/", {"action": "remove-interpreter", "interpreter": str(found.pk)})
    assert Interpreter.objects.filter(pk=found.pk).exists()
    client.post("/settings/", {"action": "remove-interpreter", "interpreter": str(row.pk)})
    assert not Interpreter.objects.filter(path=str(wrapper)).exists()
