"""Available versions against a real local index over HTTP, with pip as the oracle."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.index import IndexClient, parse_html_page, parse_json_page
from envcore.outdated import PackageUpdate, jump, outdated
from envcore.pipconfig import IndexConfig
from envcore.requirements import parse_requirements_file
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import make_venv, pip
from tests.locked import pyproject, uv_lock
from tests.wheelmaker import write_wheel


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> IndexState:
    """alpha: 1.0, 1.1, 2.0 (yanked), 2.1rc1 (pre), 3.0 (needs Python 3.99); beta: 1.0,
    1.5 (a cp27-only wheel); gamma: 0.9 as an sdist only."""
    wheels = tmp_path_factory.mktemp("published")
    state = IndexState()
    for version in ("1.0", "1.1"):
        state.publish(write_wheel(wheels, "alpha", version))
    state.publish(write_wheel(wheels, "alpha", "2.0"), yanked=True)
    state.publish(write_wheel(wheels, "alpha", "2.1rc1"))
    state.publish(write_wheel(wheels, "alpha", "3.0"), requires_python=">=3.99")
    state.publish(write_wheel(wheels, "beta", "1.0"))
    state.publish(write_wheel(wheels, "beta", "1.5", tag="cp27-cp27mu-manylinux1_x86_64"))
    sdist = wheels / "gamma-0.9.tar.gz"
    sdist.write_bytes(b"not really a tarball: never downloaded")
    state.publish(sdist)
    return state


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, published: IndexState) -> Path:
    base = tmp_path_factory.mktemp("outdated-env")
    wheels = [p.path for items in published.files.values() for p in items]
    old = [
        str(p)
        for p in wheels
        if p.name in {"alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"}
    ]
    return make_venv(base / ".venv", old, with_pip=True)


@pytest.fixture
def index(published: IndexState) -> Iterator[tuple[IndexState, str]]:
    published.mode, published.fail_with, published.cache_control = "json", None, None
    published.requests.clear()
    published.not_modified = 0
    with serve_index(published) as url:
        yield published, url


def _report(
    env: Path, client: IndexClient, requirements: Path | None = None
) -> dict[str, PackageUpdate]:
    facts = inspect_environment(env)
    parsed = parse_requirements_file(requirements) if requirements else None
    report = outdated(facts, read_inventory(facts), client, parsed)
    return {item.name: item for item in report.packages}


@pytest.mark.parametrize("mode", ["json", "html"])
def test_latest_skips_yanked_pre_releases_newer_pythons_and_foreign_wheels(
    env: Path, index: tuple[IndexState, str], tmp_path: Path, mode: str
) -> None:
    state, url = index
    state.mode = mode
    client = IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path)
    items = _report(env, client)
    alpha, beta = items["alpha"], items["beta"]
    assert (alpha.latest, alpha.status, alpha.jump) == ("1.1", "upgradable", "minor")
    assert alpha.choices == ("2.1rc1", "1.1", "1.0")
    assert (beta.latest, beta.status) == ("1.0", "up-to-date")


def test_the_requirement_bounds_the_allowed_version(
    env: Path, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    _, url = index
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha<1.1\n")
    items = _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path), requirements)
    assert items["alpha"].latest == "1.1"
    assert items["alpha"].latest_allowed == "1.0"
    pinned = tmp_path / "pinned.txt"
    pinned.write_text("alpha==2.0\n")  # a yanked release counts when pinned exactly
    items = _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path), pinned)
    assert items["alpha"].latest_allowed == "2.0"


def test_the_cache_answers_then_revalidates_with_etags(
    env: Path, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    state, url = index
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    first = sum(state.requests.values())
    assert first >= 2
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    assert sum(state.requests.values()) == first  # fresh: no request at all
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path, ttl=0))
    assert state.not_modified >= 2  # stale: revalidated, 304, body reused


def test_no_store_is_not_cached_and_offline_uses_only_the_cache(
    env: Path, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    state, url = index
    state.cache_control = "no-store"
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    offline = _report(
        env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path, offline=True)
    )
    assert offline["alpha"].status == "unknown"
    assert "offline and not cached" in offline["alpha"].reason
    state.cache_control = None
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    requests = sum(state.requests.values())
    offline = _report(
        env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path, offline=True, ttl=0)
    )
    assert offline["alpha"].latest == "1.1"
    assert sum(state.requests.values()) == requests


@pytest.mark.parametrize("failure", ["http-500", "refused"])
def test_a_failing_index_gives_unknown_with_a_reason(
    env: Path, index: tuple[IndexState, str], tmp_path: Path, failure: str
) -> None:
    state, url = index
    if failure == "http-500":
        state.fail_with = 500
    else:
        url = "http://127.0.0.1:9/simple"
    items = _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path, timeout=5))
    alpha = items["alpha"]
    assert alpha.status == "unknown"
    assert alpha.reason and "\n" not in alpha.reason
    assert ("HTTP 500" in alpha.reason) == (failure == "http-500")


def test_a_corrupt_cache_file_is_ignored(
    env: Path, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    _, url = index
    _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    for entry in tmp_path.glob("*.json"):
        entry.write_text("{not json")
    items = _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    assert items["alpha"].latest == "1.1"


def test_find_links_directories_count_too(env: Path, published: IndexState, tmp_path: Path) -> None:
    """A directory says nothing about Requires-Python or yanking: pip takes every file."""
    directory = published.files["alpha"][0].path.parent
    config = IndexConfig(find_links=(str(directory),), no_index=True)
    items = _report(env, IndexClient(config, cache_dir=tmp_path))
    listed = pip("list", "--outdated", "--format=json", "--no-index", "-f", str(directory), env=env)
    theirs = {row["name"]: row["latest_version"] for row in json.loads(listed.stdout)}
    assert items["alpha"].latest == theirs["alpha"] == "3.0"


def test_latest_versions_agree_with_pip_list_outdated(
    env: Path, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    _, url = index
    listed = pip("list", "--outdated", "--format=json", "--index-url", url, env=env)
    theirs = {row["name"]: row["latest_version"] for row in json.loads(listed.stdout)}
    ours = _report(env, IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    mine = {name: item.latest for name, item in ours.items() if item.status == "upgradable"}
    assert mine == theirs == {"alpha": "1.1"}


def test_the_command_line(env: Path, index: tuple[IndexState, str], tmp_path: Path) -> None:
    _, url = index
    argv = [sys.executable, "-m", "envcore", "outdated", str(env), "--index-url", url]
    argv += ["--cache-dir", str(tmp_path)]
    table = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert "alpha" in table.stdout and "1.1" in table.stdout and "minor" in table.stdout
    data = json.loads(
        subprocess.run([*argv, "--json"], capture_output=True, text=True, check=True).stdout
    )
    assert data["upgradable"] == 1
    bad = subprocess.run([*argv[:4], "/no/such/env"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_jump_kinds() -> None:
    assert jump(Version("1.2.3"), Version("2.0")) == "major"
    assert jump(Version("1.2.3"), Version("1.3")) == "minor"
    assert jump(Version("1.2.3"), Version("1.2.4")) == "patch"
    assert jump(Version("1.2"), Version("1.2.0.post1")) == "patch"
    assert jump(Version("2.0"), Version("1.0")) == "none"


@given(st.text(max_size=300))
def test_page_parsers_never_crash(text: str) -> None:
    parse_html_page(text, "http://x/simple/p/")
    with contextlib.suppress(ValueError):  # the one documented failure
        parse_json_page(text, "http://x/simple/p/")


def test_plain_http_hosts_need_trusted_host_as_in_pip(env: Path, tmp_path: Path) -> None:
    config = IndexConfig(index_url="http://packages.example.invalid/simple")
    items = _report(env, IndexClient(config, cache_dir=tmp_path))
    assert "not a trusted or secure host" in items["alpha"].reason
    trusted = config.with_overrides(trusted_hosts=["packages.example.invalid"])
    items = _report(env, IndexClient(trusted, cache_dir=tmp_path, timeout=2))
    assert "not a trusted" not in items["alpha"].reason  # it was asked (and failed to resolve)


def test_the_allowed_column_follows_a_locks_declared_ranges(
    env: Path, published: IndexState, index: tuple[IndexState, str], tmp_path: Path
) -> None:
    """Locked at alpha 1.0, then pyproject.toml widened to alpha<2: 1.1 is allowed (the
    lock's pin would say 1.0, the installed version); without pyproject.toml, the pin."""
    _, url = index
    wheels = published.files["alpha"][0].path.parent
    project = tmp_path / "shop"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject(["alpha==1.0"]))
    lock = uv_lock(project, wheels)
    (project / "pyproject.toml").write_text(pyproject(["alpha<2"]))
    argv = [sys.executable, "-m", "envcore", "outdated", str(env), "-r", str(lock), "--json"]
    argv += ["--index-url", url, "--cache-dir", str(tmp_path / "cache")]

    def allowed() -> str:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        packages = json.loads(out)["packages"]
        return str(next(p["latest_allowed"] for p in packages if p["name"] == "alpha"))

    assert allowed() == "1.1"
    (project / "pyproject.toml").unlink()
    assert allowed() == "1.0"


@pytest.mark.parametrize("planted", ["red\x1b]0;pwned\x07", "two words", "--index-url=evil"])
def test_a_name_that_is_no_project_name_is_not_asked_of_the_index(
    tmp_path: Path, index: tuple[IndexState, str], planted: str
) -> None:
    """Planted METADATA: urllib refused the URL (a traceback), and nothing is to be found."""
    from tests.envcore.synthetic import dist_info, posix_venv

    state, url = index
    site = posix_venv(tmp_path / "env")
    dist_info(site, "alpha", "1.0")
    dist_info(site, planted, "1.0")
    items = _report(tmp_path / "env", IndexClient(IndexConfig(index_url=url), cache_dir=tmp_path))
    assert (items[planted].status, items[planted].reason) == (
        "unknown",
        "invalid name in its metadata",
    )
    assert items["alpha"].latest == "1.1"
    assert list(state.requests) == ["/simple/alpha/"]
