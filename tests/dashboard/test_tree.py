"""The environment page's dependency tree, drawn from what the scan stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Distribution, Environment
from dashboard.scanning import scan_tree
from tests.envcore.synthetic import dist_info, posix_venv

HOSTILE_SPEC = "===<i>x</i>"


@pytest.fixture
def tree_env(db: None, settings: SettingsWrapper, tmp_path: Path) -> Environment:
    """app → lib (>=1.0), lib2[fast] → speedy, gone (missing), old (>=2, has 1.0); a
    Windows-only dependency this env never gets; a hostile specifier."""
    site = posix_venv(tmp_path / "proj" / ".venv")
    dist_info(
        site,
        "App",
        "1.0",
        "lib>=1.0",
        "lib2[fast]",
        "gone>=1",
        "old>=2",
        'winonly; sys_platform == "win32"',
        f"odd{HOSTILE_SPEC}",
    )
    dist_info(site, "lib", "1.2")
    dist_info(site, "lib2", "2.0", 'speedy>=1; extra == "fast"', 'sloth; extra == "slow"')
    dist_info(site, "speedy", "1.0")
    dist_info(site, "old", "1.0")
    dist_info(site, "odd", "1.0")
    settings.SCAN_ROOTS = [tmp_path]
    scan = scan_tree()
    assert scan.state == "done", scan.error
    return Environment.objects.get(path=str(tmp_path / "proj" / ".venv"))


def text(response: object) -> str:
    content: bytes = response.content  # type: ignore[attr-defined]
    return content.decode()


def test_the_scan_stores_each_distributions_evaluated_requirements(tree_env: Environment) -> None:
    stored = dict(Distribution.objects.filter(environment=tree_env).values_list("name", "requires"))
    assert stored["app"] == [
        ["lib", ">=1.0", [], ""],
        ["lib2", "Any", ["fast"], ""],
        ["gone", ">=1", [], ""],
        ["old", ">=2", [], ""],
        ["odd", HOSTILE_SPEC, [], ""],
    ]
    assert stored["lib2"] == [["speedy", ">=1", [], "fast"], ["sloth", "Any", [], "slow"]]


def test_the_tree_page_draws_pipdeptrees_rows_and_marks_conflicts(
    tree_env: Environment, user: Client
) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/tree/"))
    assert "<h1>Dependency tree</h1>" in page
    assert "├── </span><strong>gone</strong>" in page
    assert "[required: &gt;=1, installed: ?]" in page
    assert '<span class="badge badge--missing">not installed</span>' in page
    assert "[required: &gt;=2, installed: 1.0]" in page
    assert '<span class="badge badge--mismatch">not satisfied</span>' in page
    assert "[required: &gt;=1, installed: 1.0, extra: fast]" in page  # lib2[fast] → speedy
    assert "winonly" not in page
    assert "3 requirements not installed or not satisfied" in page  # odd too


def test_stored_text_is_escaped(tree_env: Environment, user: Client) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/tree/"))
    assert "===&lt;i&gt;x&lt;/i&gt;" in page
    assert "<i>x</i>" not in page


def test_control_characters_are_shown_not_obeyed(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client
) -> None:
    site = posix_venv(tmp_path / "env")
    dist_info(site, "app", "1.0", "evil")
    dist_info(site, "evil", "1.0\u202egpj.exe")
    settings.SCAN_ROOTS = [tmp_path]
    assert scan_tree().state == "done"
    env = Environment.objects.get(path=str(tmp_path / "env"))
    page = text(user.get(f"/environments/{env.pk}/tree/"))
    assert "installed: 1.0⟨U+202E⟩gpj.exe]" in page
    assert "\u202e" not in page


def test_cycles_are_named_and_cut(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client
) -> None:
    site = posix_venv(tmp_path / "env")
    dist_info(site, "app", "1.0", "cyc-a")
    dist_info(site, "cyc-a", "1.0", "cyc-b")
    dist_info(site, "cyc-b", "1.0", "cyc-a>=1")
    settings.SCAN_ROOTS = [tmp_path]
    assert scan_tree().state == "done"
    env = Environment.objects.get(path=str(tmp_path / "env"))
    page = text(user.get(f"/environments/{env.pk}/tree/"))
    assert 'Dependency cycle: <span class="mono">cyc-a → cyc-b → cyc-a</span>' in page
    assert page.count(">cycle</span>") == 1


def test_where_the_depth_limit_cuts_a_branch_the_page_says_so(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client
) -> None:
    site = posix_venv(tmp_path / "env")
    for index in range(105):
        dist_info(site, f"p{index}", "1.0", *([f"p{index + 1}"] if index < 104 else []))
    settings.SCAN_ROOTS = [tmp_path]
    assert scan_tree().state == "done"
    env = Environment.objects.get(path=str(tmp_path / "env"))
    page = text(user.get(f"/environments/{env.pk}/tree/"))
    note = "… deeper levels not shown (depth limit 100)"
    assert page.count(note) == 1
    row = page[page.index("<strong>p100</strong>") :]
    assert note in row[: row.index("</li>")]
    reverse = text(user.get(f"/environments/{env.pk}/tree/?why=p104"))
    assert reverse.count(note) == 1


def test_htmx_gets_the_tree_fragment_only(tree_env: Environment, user: Client) -> None:
    response = user.get(f"/environments/{tree_env.pk}/tree/", HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == "false"  # the environment page keeps its own URL
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="dependency-tree" class="tree" data-tree>')
    assert "<html" not in fragment


def test_why_shows_what_requires_a_package_up_to_the_roots(
    tree_env: Environment, user: Client
) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/tree/?why=Speedy"))
    assert "What requires <strong>speedy</strong>" in page
    assert "[requires: speedy&gt;=1, extra: fast]" in page  # lib2, through its extra
    assert "[requires: lib2]" in page  # App, above it
    assert "Back to the whole tree" in page
    assert 'what requires it<span class="sr-only"> (App)' not in page  # nothing does
    assert 'what requires it<span class="sr-only"> (lib2)' in page


def test_an_unknown_why_shows_the_whole_tree(tree_env: Environment, user: Client) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/tree/?why=nosuch"))
    assert "What requires" not in page and "<strong>App</strong>" in page


def test_the_filter_keeps_matches_and_their_paths(tree_env: Environment, user: Client) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/tree/?q=speed"))
    rows = [line for line in page.splitlines() if line.lstrip().startswith("<li data-depth")]
    shown = [line for line in rows if " hidden" not in line.split(">", 1)[0]]
    assert [line.split('data-name="')[1].split(" ")[0] for line in shown] == [
        "app",
        "lib2",
        "speedy",
    ]
    assert "3 of " in page


def test_the_environment_page_has_the_collapsed_section(
    tree_env: Environment, user: Client
) -> None:
    page = text(user.get(f"/environments/{tree_env.pk}/"))
    assert '<details class="panel tree-section" id="tree-section"' in page
    assert f'hx-get="/environments/{tree_env.pk}/tree/"' in page
    assert "js/tree.js" in page
    # each package row leads to what requires it
    assert f'href="/environments/{tree_env.pk}/tree/?why=speedy">why?' in page


def test_the_tree_costs_a_fixed_number_of_queries(tree_env: Environment, user: Client) -> None:
    user.get(f"/environments/{tree_env.pk}/tree/")  # the session is read once per client
    with CaptureQueriesContext(connection) as queries:
        response = user.get(f"/environments/{tree_env.pk}/tree/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert len(queries) <= 4


def test_it_requires_login(tree_env: Environment, client: Client) -> None:
    response = client.get(f"/environments/{tree_env.pk}/tree/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_is_404_for_an_unknown_environment(db: None, user: Client) -> None:
    assert user.get("/environments/999999/tree/").status_code == 404
