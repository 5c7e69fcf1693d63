"""The request bodies of `POST /api/jobs`, generated from each job kind's Form so that
the document cannot drift from what the Forms accept."""

from __future__ import annotations

from django import forms

from dashboard.api.response_schemas import BOOLEAN, ID, INTEGER, STRING, Schema
from dashboard.jobs.forms import Flag, Text
from dashboard.jobs.kinds import KINDS

__all__ = ["field_schema", "form_properties", "job_request_schema", "kind_request_schema"]


def field_schema(field: forms.Field) -> Schema:
    """A Form field as JSON Schema. Unknown field types fail loudly: a new one must be
    mapped here (and in `views._form_data`) before it can be offered."""
    if isinstance(field, Flag | forms.BooleanField):
        return dict(BOOLEAN)
    if isinstance(field, Text):
        return dict(STRING)
    if isinstance(field, forms.ChoiceField):
        return {"enum": [str(value) for value, _ in field.choices]}  # type: ignore[misc,union-attr]
    if isinstance(field, forms.IntegerField):
        schema: Schema = dict(INTEGER)
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.CharField):
        schema = dict(STRING)
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        return schema
    raise TypeError(f"no JSON schema for {type(field).__name__}")


def form_properties(form: type[forms.Form]) -> dict[str, Schema]:
    return {name: field_schema(field) for name, field in form.base_fields.items()}


def kind_request_schema(kind: str) -> Schema:
    """The body that starts a `kind` job: the kind, the environment (unless it creates
    one) and its Form's fields, nothing else."""
    spec = KINDS[kind]
    properties: dict[str, Schema] = {"kind": {"const": kind}}
    if not spec.creates:
        properties["environment"] = {**ID, "description": "the environment's id"}
    properties.update(form_properties(spec.form))
    description = (spec.form.__doc__ or "").strip().split("\n\n")[0]
    return {
        "title": kind,
        "description": " ".join(description.split()) or f"a {kind} job",
        "type": "object",
        "properties": properties,
        "required": ["kind"] if spec.creates else ["kind", "environment"],
        "additionalProperties": False,
    }


def job_request_schema() -> Schema:
    return {"oneOf": [kind_request_schema(kind) for kind in KINDS]}
