"""GET /api/environments/<id>/tree: the dependency tree as `python -m envcore tree --json`
prints it, from what the scan stored."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import Environment
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.test_tree import HOSTILE_SPEC, tree_env

__all__ = ["tree_env"]  # the fixture, shared with the page's tests


def _keys(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["key"] for node in nodes]


def test_the_tree_starts_at_the_roots_with_each_edges_spec(
    tree_env: Environment, api: ApiClient
) -> None:
    status, data = api.get(f"/api/environments/{tree_env.pk}/tree")
    assert status == 200
    assert (data["environment"], data["reverse"]) == (tree_env.pk, False)
    (app,) = data["tree"]
    assert (app["name"], app["version"], app["required"]) == ("App", "1.0", "1.0")
    children = {node["key"]: node for node in app["children"]}
    assert children["gone"]["version"] is None and children["gone"]["conflict"] == "missing"
    assert children["old"]["conflict"] == "unsatisfied"
    assert children["odd"]["required"] == HOSTILE_SPEC
    (speedy,) = children["lib2"]["children"]
    assert (speedy["key"], speedy["required"], speedy["extra"]) == ("speedy", ">=1", "fast")
    assert [(c["requires"], c["conflict"]) for c in data["conflicts"]] == [
        ("gone", "missing"),
        ("odd", "unsatisfied"),
        ("old", "unsatisfied"),
    ]


def test_reverse_of_one_package(tree_env: Environment, api: ApiClient) -> None:
    status, data = api.get(
        f"/api/environments/{tree_env.pk}/tree", {"package": "speedy", "reverse": "1"}
    )
    assert status == 200 and data["reverse"] is True
    (speedy,) = data["tree"]
    assert _keys(speedy["children"]) == ["lib2"]
    assert _keys(speedy["children"][0]["children"]) == ["app"]


def test_depth_and_several_packages(tree_env: Environment, api: ApiClient) -> None:
    status, data = api.get(
        f"/api/environments/{tree_env.pk}/tree", {"package": "lib2,App", "depth": "0"}
    )
    assert status == 200
    assert _keys(data["tree"]) == ["lib2", "app"]
    assert all(node["children"] == [] for node in data["tree"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"package": "nosuch"}, "not installed and required by nothing: nosuch"),
        ({"reverse": "yes"}, "reverse is 0 or 1"),
        ({"depth": "-1"}, "depth must be a whole number"),
        ({"bogus": "1"}, "unknown parameter 'bogus'"),
    ],
)
def test_bad_queries_are_one_line_400s(
    tree_env: Environment, api: ApiClient, query: dict[str, str], message: str
) -> None:
    status, data = api.get(f"/api/environments/{tree_env.pk}/tree", query)
    assert status == 400 and message in data["error"]


def test_an_unknown_environment_is_404(db: None, api: ApiClient) -> None:
    status, data = api.get("/api/environments/999999/tree")
    assert status == 404 and "no environment with id 999999" in data["error"]
