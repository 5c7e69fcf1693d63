"""GET /api/projects: the Projects page's projects with their live environments."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.models import Environment
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import row
from tests.trees import Tree


def test_projects_list_their_live_environments(scanned: Tree, api: ApiClient) -> None:
    status, items = api.get("/api/projects")
    assert status == 200
    by_name = {item["name"]: item for item in items}
    assert set(by_name) == {"proj-a", "proj b"}
    proj_a = by_name["proj-a"]
    assert proj_a["requirements_source"].endswith("proj-a/requirements.txt")
    drifted = row(scanned.drifted)
    assert proj_a["environments"] == [
        {
            "id": drifted.pk,
            "url": f"/environments/{drifted.pk}/",
            "name": drifted.name,
            "path": str(scanned.drifted),
            "status": "drifted",
        }
    ]
    Environment.objects.filter(pk=drifted.pk).update(gone_at=datetime.now(UTC))
    again = {item["name"]: item for item in api.get("/api/projects")[1]}
    assert again["proj-a"]["environments"] == []


def test_projects_take_no_parameters(db: None, api: ApiClient) -> None:
    assert api.get("/api/projects", {"page": "2"}) == (
        400,
        {"error": "unknown parameter 'page'; the parameters are none"},
    )
