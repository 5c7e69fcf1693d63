"""Tests of envcore.snapshot: project identity, building from real venvs, strict validation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from envcore.errors import SnapshotError
from envcore.snapshot import (
    SCHEMA_PATH,
    DriftLine,
    build_snapshot,
    content_hash,
    drift_section,
    normalise_remote,
    parse_snapshot,
    project_identity,
    validate_snapshot,
)
from tests.envtools import make_venv

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("remote", "identity"),
    [
        ("https://github.com/Acme/Proj.git", "github.com/Acme/Proj"),
        ("https://user:secret@GitHub.com/Acme/Proj.git/", "github.com/Acme/Proj"),
        ("git@github.com:Acme/Proj.git", "github.com/Acme/Proj"),
        ("ssh://git@github.com:22/Acme/Proj", "github.com/Acme/Proj"),
        (
            "git+ssh://git@gitlab.example.com/group/sub/proj.git",
            "gitlab.example.com/group/sub/proj",
        ),
        ("https://github.com/../../etc/passwd", "github.com/etc/passwd"),
        ("/srv/git/proj.git", None),
        ("file:///srv/git/proj.git", None),
        ("https://github.com/", None),
        # A planted remote urllib refuses (ValueError): no identity, never a crash.
        ("https://[github.com/Acme/Proj.git", None),
    ],
)
def test_normalise_remote_gives_one_identity_per_repository(
    remote: str, identity: str | None
) -> None:
    assert normalise_remote(remote) == identity


def _git_project(base: Path, remote: str) -> Path:
    project = base / "proj"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "config").write_text(
        f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {remote}\n'
    )
    return project


def test_project_identity_reads_git_remote_without_credentials(tmp_path: Path) -> None:
    project = _git_project(tmp_path, "https://alice:hunter2@github.com/acme/proj.git")
    (project / "requirements.txt").write_text("alpha==1.0\nbeta>=1\n")
    identity, fingerprint = project_identity(project)
    assert identity == "github.com/acme/proj"
    assert "hunter2" not in identity
    assert fingerprint is not None and len(fingerprint) == 64


def test_project_identity_matches_across_clone_spellings(tmp_path: Path) -> None:
    ssh = _git_project(tmp_path / "a", "git@github.com:acme/proj.git")
    https = _git_project(tmp_path / "b", "https://github.com/acme/proj")
    assert project_identity(ssh)[0] == project_identity(https)[0]


def test_project_identity_falls_back_to_directory_name(tmp_path: Path) -> None:
    project = tmp_path / "my project"
    project.mkdir()
    assert project_identity(project) == ("dir:my-project", None)


def test_requirements_hash_ignores_order_and_spelling(tmp_path: Path) -> None:
    one, two, three = (tmp_path / name for name in ("one", "two", "three"))
    for directory, text in (
        (one, "alpha==1.0\nBeta>=1\n"),
        (two, "# same\nbeta >= 1\nAlpha==1.0\n"),
        (three, "alpha==1.1\nbeta>=1\n"),
    ):
        directory.mkdir()
        (directory / "requirements.txt").write_text(text)
    assert project_identity(one)[1] == project_identity(two)[1]
    assert project_identity(one)[1] != project_identity(three)[1]


@pytest.fixture(scope="module")
def project_env(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A project asking for alpha==1.1 whose .venv has alpha 1.0: drifted."""
    project = _git_project(tmp_path_factory.mktemp("snap"), "git@example.invalid:team/app.git")
    (project / "requirements.txt").write_text("alpha==1.1\n")
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    return make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)


def test_build_snapshot_describes_a_real_environment(project_env: Path) -> None:
    snapshot = build_snapshot(
        [project_env], host="laptop-1", user="alice", tool_version="0.1.0", now=NOW
    )
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["schema_version"] == 1
    assert snapshot["created_at"] == "2026-11-24T09:00:00+00:00"
    (env,) = snapshot["environments"]
    assert env["path"] == str(project_env)
    assert env["health"] == "ok"
    assert {"name": "alpha", "version": "1.0", "source": "index"} in env["distributions"]
    assert env["project"]["identity"] == "example.invalid/team/app"
    assert env["project"]["requirements"] == [{"name": "alpha", "specifier": "==1.1"}]
    assert env["drift"]["summary"] == "drifted"
    (item,) = [item for item in env["drift"]["items"] if item["name"] == "alpha"]
    assert item["status"] == "mismatch"
    assert item["installed_version"] == "1.0"


def test_build_snapshot_skips_paths_that_are_not_environments(
    project_env: Path, tmp_path: Path
) -> None:
    snapshot = build_snapshot(
        [tmp_path, project_env], host="h", user="u", tool_version="0.1.0", now=NOW
    )
    assert [env["path"] for env in snapshot["environments"]] == [str(project_env)]


def test_build_snapshot_leaves_out_only_an_environment_it_cannot_describe(
    project_env: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    odd = make_venv(tmp_path / "new\nline" / ".venv")
    snapshot = build_snapshot([odd, project_env], host="h", user="u", tool_version="0.1.0", now=NOW)
    assert [env["path"] for env in snapshot["environments"]] == [str(project_env)]


def test_build_snapshot_never_sends_the_value_of_an_expanded_variable(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip expands ${VAR} from the environment, and so does drift; a snapshot must not."""
    secret = "tok3n-s3cret-Value"
    monkeypatch.setenv("ENVDASH_TEAM_TOKEN", secret)
    monkeypatch.setenv("ALPHA_PIN", "1.1")
    monkeypatch.setenv("PLANTED_NAME", "leaked-" + secret)
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text(
        "alpha==${ALPHA_PIN}\n"
        "beta @ https://user:${ENVDASH_TEAM_TOKEN}@example.invalid/beta-1.0.tar.gz\n"
        "${PLANTED_NAME}>=1\n"
    )
    env = make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    snapshot = build_snapshot([env], host="h", user="u", tool_version="0.1.0", now=NOW)
    sent = json.dumps(snapshot).lower()
    assert secret.lower() not in sent  # names are sent canonical (lower case)
    (section,) = snapshot["environments"]
    items = {item["name"]: item for item in section["drift"]["items"]}
    assert items["alpha"]["status"] == "mismatch"  # compared with the expanded ==1.1
    assert items["alpha"]["required"] == "==${ALPHA_PIN}"
    # Credentials in a URL are masked as pip masks them, whatever they are written as.
    assert items["beta"]["required"] == "https://user:****@example.invalid/beta-1.0.tar.gz"
    assert set(items) == {"alpha", "beta"}
    # The schema's specifiers cannot say ${ALPHA_PIN}: that row stays home.
    assert section["project"]["requirements"] == [{"name": "beta", "specifier": ""}]


def test_build_snapshot_refuses_naive_time(project_env: Path) -> None:
    with pytest.raises(SnapshotError, match="time zone"):
        build_snapshot([], host="h", user="u", tool_version="1", now=datetime(2026, 1, 1))


def _valid() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "snapshot_id": "0" * 32,
        "created_at": "2026-11-24T09:00:00+00:00",
        "host": "laptop-1",
        "user": "alice",
        "tool_version": "0.1.0",
        "environments": [
            {
                "path": "/home/alice/app/.venv",
                "name": "app/.venv",
                "kind": "venv",
                "python_version": "3.11.7",
                "health": "ok",
                "broken_reason": "",
                "project": None,
                "distributions": [{"name": "alpha", "version": "1.0", "source": "index"}],
                "drift": None,
            }
        ],
    }


def _with(path: str, value: object) -> dict[str, Any]:
    data = _valid()
    target: Any = data
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


_DELETE = object()
_DIST = "environments/0/distributions/0"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        (_with("schema_version", 2), "unsupported snapshot schema version 2"),
        (_with("schema_version", _DELETE), "schema version missing"),
        (_with("schema_version", "1"), 'schema version "1"'),
        (_with("host", _DELETE), "missing required field 'host'"),
        (_with("host", 42), "host: must be string"),
        (_with("host", "<script>alert(1)</script>"), "host: contains characters"),
        (_with("host", "a" * 300), "host: longer than 253"),
        (_with("extra", 1), "unexpected field"),
        (_with("environments", "nope"), "environments: must be array"),
        (_with(f"{_DIST}/name", "<img src=x onerror=alert(1)>"), "name: contains characters"),
        (_with(f"{_DIST}/name", "../../etc/passwd"), "name: contains characters"),
        (_with(f"{_DIST}/name", "x" * 100_000), "longer than 200 characters"),
        (_with(f"{_DIST}/version", "1.0<b>"), "version: contains characters"),
        (_with(f"{_DIST}/source", "ftp"), "source: not an allowed value"),
        (_with("environments/0/path", "/a\x00b"), "path: contains characters"),
        (_with("environments/0/kind", "docker"), "kind: not an allowed value"),
        (_with("created_at", "yesterday"), "created_at: contains characters"),
        (_with("created_at", "2026-13-45T99:00:00+00:00"), "created_at: not a valid date"),
        (_with("created_at", "2027-11-24T09:00:00+00:00"), "in the future"),
        (_with("snapshot_id", "x" * 32), "snapshot_id: contains characters"),
    ],
)
def test_validate_snapshot_refuses_bad_documents(data: object, message: str) -> None:
    with pytest.raises(SnapshotError) as caught:
        validate_snapshot(data, now=NOW)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text and len(text) < 300


def test_validate_snapshot_refuses_repeated_paths_and_packages() -> None:
    data = _valid()
    data["environments"].append(copy.deepcopy(data["environments"][0]))
    with pytest.raises(SnapshotError, match="listed twice"):
        validate_snapshot(data, now=NOW)
    data = _valid()
    data["environments"][0]["distributions"].append(
        {"name": "Alpha", "version": "2.0", "source": "index"}
    )
    with pytest.raises(SnapshotError, match="package alpha listed twice"):
        validate_snapshot(data, now=NOW)


def test_validate_snapshot_returns_a_valid_document() -> None:
    assert validate_snapshot(_valid(), now=NOW) == _valid()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_parse_snapshot_refuses_undecodable_bodies(raw: bytes, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        parse_snapshot(raw)


def test_content_hash_ignores_key_order() -> None:
    data = _valid()
    reordered = dict(reversed(list(data.items())))
    assert content_hash(data) == content_hash(reordered)
    assert content_hash(data) != content_hash(_with("user", "bob"))


def test_published_schema_is_strict() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False, name


def test_future_tolerance_is_a_day() -> None:
    data = _with("created_at", (NOW + timedelta(hours=23)).isoformat())
    assert validate_snapshot(data, now=NOW)["created_at"] == data["created_at"]


def test_the_drift_section_carries_only_names_and_versions_an_installer_accepts() -> None:
    # `$` in a pattern also matches before a final newline: "alpha\n" is no project name.
    items = [
        DriftLine("alpha", "mismatch", "==2.0", "1.0"),
        DriftLine("beta\n", "missing", ">=1", None),
        DriftLine("gamma", "mismatch", "==2.0", "1.0\n"),
        DriftLine("d" * 201, "missing", ">=1", None),
    ]
    section = drift_section("drifted", {"mismatch": 2}, items, ["ok", "bad\n"], None)
    assert [(item["name"], item["installed_version"]) for item in section["items"]] == [
        ("alpha", "1.0"),
        ("gamma", None),
    ]
    assert section["untracked"] == ["ok"]
