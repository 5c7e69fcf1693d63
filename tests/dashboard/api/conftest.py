"""The API tests' client: Django's test client with the Bearer token, which validates
every JSON response against the OpenAPI document's schema for that path, method and
status (so no test can pass on a response the document does not describe)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema
import pytest
from django.test import Client

from dashboard.api.schema import document
from dashboard.auth import login_token
from tests.dashboard.jobs.conftest import project

__all__ = ["ApiClient", "conforms", "project", "raw_post"]


@cache
def _document() -> dict[str, Any]:
    return document()


def _template(path: str) -> str:
    """The document's path template for a request path (/api/jobs/7 -> /api/jobs/{id})."""
    for template in _document()["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", r"\\d+", template) + "$"
        if re.match(pattern, path):
            return str(template)
    raise AssertionError(f"{path} is not in the OpenAPI document")


def conforms(response: Any, method: str, path: str) -> Any:
    """The response's JSON, once it matched the schema the document gives it."""
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    data = json.loads(response.content)
    doc = _document()
    responses = doc["paths"][_template(path)][method.lower()]["responses"]
    assert str(response.status_code) in responses, (response.status_code, data)
    described = responses[str(response.status_code)]
    if "$ref" in described:
        described = doc["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    schema = described["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
    validator.validate(data)
    return data


class ApiClient:
    """Calls the API with `Authorization: Bearer <token>`; each answer is checked with
    `conforms` and returned as (status, JSON)."""

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token or login_token()}"}
        self.last: Any = None

    def get(self, path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
        response = self.client.get(path, query or {}, headers=self.headers)
        self.last = response
        return response.status_code, conforms(response, "GET", path)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.post(
            path,
            b"" if body is None else json.dumps(body).encode(),
            content_type="application/json",
            headers=self.headers,
        )
        self.last = response
        return response.status_code, conforms(response, "POST", path)


def raw_post(client: Client, path: str, body: bytes, content_type: str, **headers: str) -> Any:
    return client.post(path, body, content_type=content_type, headers=headers)


@pytest.fixture
def api() -> ApiClient:
    # CSRF is enforced as in a browser: a Bearer call must not need a CSRF token.
    return ApiClient(Client(enforce_csrf_checks=True))
