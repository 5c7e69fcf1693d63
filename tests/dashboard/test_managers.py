"""The tool that made an environment (pdm, `uv tool`...), stored by a scan and shown on
the pages and in the API, where the kind alone said "virtualenv" or "uv"."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Environment
from dashboard.scanning import scan_tree
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import row
from tests.envcore.synthetic import PY
from tests.envcore.test_managers import _pdm_cfg, _uv_tool_install
from tests.envtools import make_venv


@pytest.fixture
def managed(
    db: None, settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A real `uv tool install` (into a tool dir inside the scan root) and an in-project
    pdm env (its pyvenv.cfg as pdm writes it), scanned."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable in ("XDG_DATA_HOME", "PIPX_HOME", "PIPX_GLOBAL_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("UV_TOOL_DIR", str(tmp_path / "tools"))
    _uv_tool_install(tmp_path, UV_TOOL_DIR=str(tmp_path / "tools"))
    project = tmp_path / "proj-x"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "proj-x"\nversion = "0.1"\n')
    pdm = make_venv(project / ".venv")
    (pdm / "pyvenv.cfg").write_text(_pdm_cfg(pdm, "/usr/bin/python3", f"proj-x-{PY}"))
    settings.SCAN_ROOTS = [tmp_path]
    scan = scan_tree()
    assert scan.state == "done", scan.error
    return tmp_path / "tools" / "toolapp", pdm


def test_a_scan_stores_the_manager_beside_the_kind(managed: tuple[Path, Path]) -> None:
    tool, pdm = managed
    assert (row(tool).kind, row(tool).manager) == ("uv", "uv-tool")
    assert (row(pdm).kind, row(pdm).manager) == ("virtualenv", "pdm")


def test_the_pages_show_the_manager(managed: tuple[Path, Path], user: Client) -> None:
    _tool, pdm = managed
    listing = user.get("/environments/").content.decode()
    assert "<td>uv · uv-tool</td>" in listing and "<td>virtualenv · pdm</td>" in listing
    page = user.get(f"/environments/{row(pdm).pk}/").content.decode()
    assert "<dd>virtualenv · managed by pdm" in page


def test_the_api_says_the_manager(managed: tuple[Path, Path]) -> None:
    tool, pdm = managed
    api = ApiClient(Client(enforce_csrf_checks=True))
    status, items = api.get("/api/environments")
    assert status == 200
    by_path = {item["path"]: item for item in items}
    assert (by_path[str(tool)]["kind"], by_path[str(tool)]["manager"]) == ("uv", "uv-tool")
    status, item = api.get(f"/api/environments/{row(pdm).pk}")
    assert status == 200 and (item["kind"], item["manager"]) == ("virtualenv", "pdm")


def test_the_list_filters_by_manager_on_the_page_and_in_the_api(
    managed: tuple[Path, Path], user: Client
) -> None:
    tool, pdm = managed
    page = user.get("/environments/", {"manager": "pdm"}).content.decode()
    assert str(pdm) in page and str(tool) not in page
    assert "<option selected>pdm</option>" in page and "<option >uv-tool</option>" in page
    api = ApiClient(Client(enforce_csrf_checks=True))
    status, items = api.get("/api/environments", {"manager": "uv-tool"})
    assert status == 200 and [item["path"] for item in items] == [str(tool)]


def test_a_row_stored_before_the_manager_gets_it_on_the_next_scan(
    managed: tuple[Path, Path],
) -> None:
    _, pdm = managed
    Environment.objects.filter(path=str(pdm)).update(manager="")
    assert scan_tree().state == "done"
    assert row(pdm).manager == "pdm"
