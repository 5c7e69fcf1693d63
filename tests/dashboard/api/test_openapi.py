"""The OpenAPI document: served without a token, valid OpenAPI 3.1, equal to the checked-in
docs/openapi.json, and its job request bodies are the Forms' fields."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from django.test import Client
from schemathesis.specs.openapi.definitions import OPENAPI_31

from dashboard.api.request_schemas import kind_request_schema
from dashboard.api.schema import document
from dashboard.jobs.kinds import KINDS

REPO = Path(__file__).resolve().parents[3]
CHECKED_IN = REPO / "docs" / "openapi.json"


def test_the_document_is_served_without_a_token(db: None) -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == document()


def test_the_document_is_valid_openapi_3_1() -> None:
    # The OpenAPI Initiative's 3.1 schema, as schemathesis ships it (offline).
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document())
    for name, schema in document()["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema), name


def test_the_checked_in_document_is_the_served_one(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("openapi")
    printed = capsys.readouterr().out
    assert json.loads(printed) == document()
    assert CHECKED_IN.read_text() == printed, (
        "docs/openapi.json is stale: python3 manage.py openapi > docs/openapi.json"
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kinds_body_is_its_forms_fields(kind: str) -> None:
    schema = kind_request_schema(kind)
    fields = set(KINDS[kind].form.base_fields)
    own = {"kind", "environment"} if not KINDS[kind].creates else {"kind"}
    assert set(schema["properties"]) == fields | own
    assert schema["additionalProperties"] is False
    assert schema["properties"]["kind"] == {"const": kind}


def test_form_fields_map_to_json_types() -> None:
    create = kind_request_schema("create")["properties"]
    assert create["path"] == {"type": "string"}
    assert create["system_site_packages"] == {"type": "boolean"}
    retry = document()["paths"]["/api/jobs/{id}/retry"]["post"]["requestBody"]
    assert retry["content"]["application/json"]["schema"]["properties"]["installer"] == {
        "enum": ["", "pip"]
    }
