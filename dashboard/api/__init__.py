"""envdash's JSON API (/api/): what the pages show, as data, and the jobs they start.

Plain Django function views and an OpenAPI 3.1 document built in Python
(`dashboard.api.schema`), not django-ninja, because:

1. One validation path. A job started through the API passes the very Form the page's POST
   passes (`dashboard.jobs.kinds.KINDS`: kind -> Form + run function), so its refusals are
   the pages' refusals by construction; the request-body schemas are generated from those
   Forms' fields, so the document cannot drift from what is accepted. With ninja the
   bodies would be pydantic models written a second time beside the Forms.
2. No new runtime dependency tree (pydantic, pydantic-core): jsonschema, already a runtime
   dependency, checks body shapes, and the tests validate responses with it.
3. Authentication, Host checks and CSRF stay in the middleware the pages already rely on
   and test (`dashboard.auth`); `dashboard.api.http` adds one rule: writes need the Bearer
   token, a session cookie alone never starts anything.

The document is built in `schema.py`, from the response schemas in `response_schemas.py`
and the request bodies `request_schemas.py` makes from the Forms; serializers in
`serializers.py`, views stay thin.
"""
