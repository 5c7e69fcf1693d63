"""Property-based tests of the JSON API (schemathesis) against the real `envdash serve`:
for every operation in the served OpenAPI document, generated requests with the Bearer
token get no 5xx, and every response has a documented status, content type and schema.

Bounded and deterministic: a fixed number of examples per operation, derandomized, no
shrinking. The server's only scan root is this test's temporary directory, holding
throwaway environments: a generated `delete` or `recreate` can only reach those, and a
generated `create` or requirements path outside it is refused by the scan-root checks.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.dashboard.jobs.conftest import wait_until
from tests.e2e.conftest import Server, start_server
from tests.envtools import make_venv

#: Generated requests per operation (and again per operation on an existing id).
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("throwaway")
    for name in ("one", "two"):
        (root / name).mkdir()
        (root / name / "requirements.txt").write_text("alpha==1.1\n")
        make_venv(root / name / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse, with_pip=True)
    offline = {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "ENVDASH_OFFLINE": "1",
        "ENVDASH_INSTALLER": "pip",
    }
    yield from start_server(tmp_path_factory.mktemp("api-serve"), [root], offline)


def _get(server: Server, path: str) -> Any:
    bearer = {"Authorization": f"Bearer {server.token}"}
    request = urllib.request.Request(server.url(path), headers=bearer)  # noqa: S310 (ours)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def _post(server: Server, path: str, body: dict[str, Any]) -> int:
    """POST a JSON body with the token; the id of what it made."""
    request = urllib.request.Request(  # noqa: S310 (ours)
        server.url(path),
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return int(json.load(response)["id"])


def _first_environment(server: Server) -> int:
    """An environment that exists, once the server's first scan stored both."""
    wait_until(lambda: len(_get(server, "/api/environments")) == 2, timeout=60)
    return int(_get(server, "/api/environments")[0]["id"])


def test_no_server_error_and_every_response_conforms(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    schema = schemathesis.openapi.from_url(server.url("/api/openapi.json"))
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the document has an operation it cannot load"
    described = {
        f"{method.upper()} {path}"
        for path, methods in _get(server, "/api/openapi.json")["paths"].items()
        for method in methods
    }
    # schemathesis leaves out the operation that serves the document it was loaded from.
    assert {operation.label for operation in operations} == described - {"GET /api/openapi.json"}
    env_id = _first_environment(server)
    job_id = _post(server, "/api/jobs", {"kind": "install", "environment": env_id, "specs": "beta"})
    project_id = int(_get(server, "/api/projects")[0]["id"])
    real = {"environments": env_id, "jobs": job_id, "projects": project_id}
    failures: dict[str, str] = {}
    statuses: Counter[str] = Counter()
    runs = 0
    for operation in operations:
        fixed: list[dict[str, int] | None] = [None]
        if "{id}" in operation.path:  # also on a real one: most generated ids do not exist
            fixed.append({"id": real[operation.path.split("/")[2]]})
        for path_parameters in fixed:
            strategy = operation.as_strategy(path_parameters=path_parameters)

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call_and_validate(
                    base_url=server.base_url, headers=auth, checks=CHECKS
                )
                statuses[f"{case.operation.label} {response.status_code}"] += 1

            label = f"{operation.label} {path_parameters or ''}"
            try:
                run()
            except Exception as exc:  # collected: every operation is tried
                failures[label] = str(exc)[:2000]
            runs += 1
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert runs == len(operations) + sum("{id}" in operation.path for operation in operations)
    # The run reached real things, not only refusals: details of a real environment and
    # job, and jobs started from generated bodies (run by serve's worker meanwhile).
    for reached in (
        "GET /api/environments/{id} 200",
        "GET /api/jobs/{id} 200",
        "POST /api/jobs 201",
    ):
        assert statuses[reached] > 0, sorted(statuses.items())
