"""Every page over a scanned tree of real environments, plus bounded query counts."""

from __future__ import annotations

import html
import re
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Environment, Project, ScanRoot
from dashboard.queries import activation_commands
from dashboard.scanning import scan_tree
from tests.dashboard.conftest import row
from tests.envtools import make_venv
from tests.trees import Tree


def text(response: object) -> str:
    content: bytes = response.content  # type: ignore[attr-defined]
    return content.decode()


def test_overview_counts_and_needs_attention(scanned: Tree, user: Client) -> None:
    page = text(user.get("/"))
    assert "Needs attention" in page
    # Broken first, then the most drift.
    broken_at = page.index(str(scanned.broken))
    drifted_at = page.index(str(scanned.drifted))
    assert broken_at < drifted_at
    assert str(scanned.in_sync) not in page  # in sync needs no attention
    assert "<svg" in page
    assert "1 in sync" in page  # the donut's accessible title
    assert "Found proj-a/.venv" in page  # recent activity


def test_environment_list_filters_sorts_and_keeps_state_in_the_url(
    scanned: Tree, user: Client
) -> None:
    everything = text(user.get("/environments/"))
    assert "4 environments" in everything
    drifted = text(user.get("/environments/?status=drifted"))
    assert str(scanned.drifted) in drifted
    assert str(scanned.in_sync) not in drifted
    searched = text(user.get("/environments/?q=loose"))
    assert "1 environment match" in searched
    by_project = text(user.get("/environments/?q=proj-a"))
    assert str(scanned.drifted) in by_project
    ordered = text(user.get("/environments/?sort=-name"))
    names = [str(scanned.loose), str(scanned.broken)]
    assert ordered.index(names[0]) < ordered.index(names[1])
    assert 'aria-sort="descending"' in ordered
    assert "sort=name" in ordered  # clicking again flips the order


def test_the_filter_answers_htmx_with_the_table_fragment_only(scanned: Tree, user: Client) -> None:
    fragment = text(
        user.get("/environments/?q=broken", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="env-table")
    )
    assert fragment.lstrip().startswith('<div id="env-table" data-live>')
    assert "<html" not in fragment
    assert str(scanned.broken) in fragment


def test_the_list_paginates(db: None, user: Client) -> None:
    now = datetime.now(UTC)
    Environment.objects.bulk_create(
        Environment(
            path=f"/synthetic/env{i:03d}",
            name=f"env{i:03d}",
            kind="venv",
            first_seen=now,
            last_seen=now,
            last_scanned=now,
            last_changed=now,
        )
        for i in range(130)
    )
    first = text(user.get("/environments/?sort=name"))
    assert "Page 1 of 2" in first
    assert "/synthetic/env099" in first
    assert "/synthetic/env100" not in first
    second = text(user.get("/environments/?sort=name&page=2"))
    assert "/synthetic/env129" in second
    assert 'href="?sort=name&amp;page=1"' in second  # a page link keeps the order
    assert 'href="?sort=-name"' in second  # a sort link starts again at page 1


def test_detail_flags_the_drifted_package(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert str(scanned.drifted) in page
    assert 'data-package="alpha"' in page
    assert "badge--mismatch" in page
    assert "==1.0" in page  # the required spec next to the installed 1.1
    drift = text(user.get(reverse("environment", args=[env.pk]) + "?tab=drift"))
    assert "badge--missing" in drift
    assert "requirements.txt:2" in drift  # where the requirement comes from
    freeze = text(user.get(reverse("environment", args=[env.pk]) + "?tab=freeze"))
    assert "alpha==1.1" in freeze


def test_the_package_filter_answers_with_the_table_only(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    fragment = text(
        user.get(
            reverse("environment", args=[env.pk]) + "?tab=packages&q=delta",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="packages",
        )
    )
    assert fragment.lstrip().startswith('<div id="packages"')
    assert "Delta_Pkg.Two" in fragment
    assert 'data-package="alpha"' not in fragment


def test_broken_environment_shows_the_reason(scanned: Tree, user: Client) -> None:
    env = row(scanned.broken)
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert "no longer exists" in page
    assert "recreate the environment" in page


def test_activation_commands_are_quoted_for_each_shell(scanned: Tree, user: Client) -> None:
    env = row(scanned.in_sync)  # its path has a space in it
    commands = {item.shell: item.command for item in activation_commands(env)}
    assert shlex.split(commands["bash / zsh"]) == ["source", f"{scanned.in_sync}/bin/activate"]
    assert commands["fish"].endswith("activate.fish'")
    assert commands["csh / tcsh"].endswith("activate.csh'")
    assert commands["PowerShell"] == f"& '{scanned.in_sync}/bin/Activate.ps1'"
    page = text(user.get(reverse("environment", args=[env.pk]) + "?tab=activate"))
    assert page.count('class="copy"') == len(commands)


HOSTILE_DIR = "x\\'\"; touch pwned #"


@pytest.mark.parametrize(
    ("shell", "argv", "script"),
    [
        ("bash / zsh", ["bash", "-c"], "activate"),
        ("fish", ["fish", "-c"], "activate.fish"),
    ],
)
def test_a_hostile_directory_name_is_quoted_for_a_real_shell(
    db: None, tmp_path: Path, shell: str, argv: list[str], script: str
) -> None:
    """The pasted line sources the activate script and runs nothing else."""
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is missing: `python3 manage.py test` installs it (Debian)")
    env_dir = tmp_path / HOSTILE_DIR
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / script).write_text("echo activated > sourced\n")
    now = datetime.now(UTC)
    env = Environment(
        path=str(env_dir),
        name=env_dir.name,
        kind="venv",
        layout="posix",
        first_seen=now,
        last_seen=now,
        last_scanned=now,
        last_changed=now,
    )
    line = {item.shell: item.command for item in activation_commands(env)}[shell]
    subprocess.run([*argv, line], cwd=tmp_path, check=True, timeout=60)
    assert (tmp_path / "sourced").read_text() == "activated\n"
    assert not any(path.name == "pwned" for path in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    ("path", "commands"),
    [
        (
            f"/w/{HOSTILE_DIR}!",
            {
                "conda (csh / tcsh)": "conda activate '/w/x\\'\\''\"; touch pwned #\\!'",
                "conda (PowerShell)": "conda activate '/w/x\\''\"; touch pwned #!'",
                "conda (fish)": "conda activate '/w/x\\\\\\'\"; touch pwned #!'",
            },
        ),
        ("/w/it\u2019s; calc", {"conda (PowerShell)": "conda activate '/w/it\u2019\u2019s; calc'"}),
        ("/w/100%done", {"conda (cmd)": None}),
        ("/w/plain dir", {"conda (cmd)": 'conda activate "/w/plain dir"'}),
    ],
)
def test_each_shell_gets_its_own_quoting(path: str, commands: dict[str, str | None]) -> None:
    now = datetime.now(UTC)
    env = Environment(
        path=path,
        name="c",
        kind="conda",
        first_seen=now,
        last_seen=now,
        last_scanned=now,
        last_changed=now,
    )
    shells: dict[str, str | None] = {a.shell: a.command for a in activation_commands(env)}
    for shell, expected in commands.items():
        assert shells.get(shell) == expected, shell


def test_windows_and_conda_environments_get_their_own_commands(db: None) -> None:
    now = datetime.now(UTC)
    common = {"first_seen": now, "last_seen": now, "last_scanned": now, "last_changed": now}
    windows = Environment(
        path="C:\\work\\app\\.venv", name="w", kind="venv", layout="windows", **common
    )
    shells = {a.shell: a.command for a in activation_commands(windows)}
    assert shells["cmd"] == '"C:\\work\\app\\.venv\\Scripts\\activate.bat"'
    conda = Environment(path="/opt/conda/envs/ds", name="ds", kind="conda", **common)
    assert activation_commands(conda)[0].command == "conda activate /opt/conda/envs/ds"


def test_bidi_controls_in_paths_and_names_are_shown_marked(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client
) -> None:
    """U+202E would show `txt.exe` reversed: names, paths and requirements are marked."""
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "exe\u202eproj\u2067" / ".venv")
    (env.parent / "requirements.txt").write_text("alpha\u202e==1.0\n")
    scan_tree()
    listed = row(env)
    detail = f"/environments/{listed.pk}/"
    for url in ["/", "/environments/", "/projects/", detail, detail + "?tab=drift"]:
        page = text(user.get(url))
        assert "\u202e" not in page and "\u2067" not in page, url
        assert "exe⟨U+202E⟩proj⟨U+2067⟩" in page, url
    # The chooser sends its paths back: as character references, the browser sends them whole.
    value = re.search(r'<option value="([^"]*)">requirements.txt<', page)
    assert value is not None
    assert html.unescape(value.group(1)) == str(env.parent / "requirements.txt")


def test_projects_page_lists_each_project_and_its_environments(scanned: Tree, user: Client) -> None:
    page = text(user.get("/projects/"))
    assert "proj-a" in page
    assert "proj b" in page
    assert page.count("badge--in-sync") >= 1
    assert Project.objects.count() == 2


def test_rescan_queues_a_scan_for_this_machine(scanned: Tree, user: Client) -> None:
    response = user.post("/rescan/", {"back": "/environments/"})
    assert response.status_code == 302
    task = DBTaskResult.objects.get()
    assert task.task_path == "dashboard.tasks.scan"
    assert task.queue_name.startswith("machine-")
    htmx = user.post("/rescan/", HTTP_HX_REQUEST="true")
    assert "Scanning" in text(htmx)
    assert '<button type="submit" disabled>Rescan</button>' in text(htmx)


@pytest.mark.parametrize(
    ("back", "location"),
    [
        ("/environments/?q=x", "/environments/?q=x"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_rescan_goes_back_only_to_a_page_of_this_site(
    db: None, user: Client, back: str, location: str
) -> None:
    response = user.post("/rescan/", {"back": back})
    assert response.status_code == 302
    assert response["Location"] == location


def test_rescan_one_environment(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    user.post(reverse("environment-rescan", args=[env.pk]))
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["kwargs"]["path"] == str(scanned.drifted)


def test_settings_add_pause_and_remove_a_scan_root(
    db: None, user: Client, tmp_path: Path, settings: SettingsWrapper
) -> None:
    assert user.post("/settings/", {"action": "add", "path": str(tmp_path)}).status_code == 302
    root = ScanRoot.objects.get()
    assert root.path == str(tmp_path)
    user.post("/settings/", {"action": "toggle", "root": root.pk})
    root.refresh_from_db()
    assert root.enabled is False
    user.post("/settings/", {"action": "remove", "root": root.pk})
    assert not ScanRoot.objects.exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [("relative/dir", "absolute"), ("/no/such/dir/anywhere", "not a directory")],
)
def test_settings_refuses_bad_roots_with_a_reason(
    db: None, user: Client, path: str, message: str
) -> None:
    response = user.post("/settings/", {"action": "add", "path": path})
    assert response.status_code == 400
    assert message in text(response)
    assert not ScanRoot.objects.exists()


@pytest.mark.parametrize(
    ("action", "field", "error"),
    [
        ("add", "path", "Give an absolute directory path."),
        ("add-interpreter", "interpreter", "the interpreter&#x27;s absolute path"),
    ],
)
def test_settings_answers_each_add_form_under_that_form(
    db: None, user: Client, action: str, field: str, error: str
) -> None:
    page = text(user.get("/settings/"))
    for name in ("path", "interpreter"):
        assert page.count(f'<input type="text" name="{name}"') == 1
    response = user.post("/settings/", {"action": action, field: "relative"})
    assert response.status_code == 400
    page = text(response)
    assert page.count('class="error" role="alert"') == 1
    alert = page.index('class="error" role="alert"')
    assert error in page[alert : alert + 300]
    # the answer stands right before the form that was sent, not before the other one
    following = page.index('name="action" value="', alert) + len('name="action" value="')
    assert page[following:].startswith(f'{action}"')


@pytest.mark.parametrize("root", ["abc", "", "-1", "999999"])
@pytest.mark.parametrize("action", ["remove", "toggle"])
def test_settings_explains_an_unknown_root_in_one_line(
    db: None, user: Client, action: str, root: str
) -> None:
    response = user.post("/settings/", {"action": action, "root": root})
    assert response.status_code == 400
    assert "That scan root does not exist" in text(response)


def test_unknown_environment_is_404(db: None, user: Client) -> None:
    assert user.get("/environments/999999/").status_code == 404


def _synthetic(count: int, start: int = 0) -> None:
    now = datetime.now(UTC)
    project = Project.objects.create(path=f"/p{start}", name=f"p{start}")
    Environment.objects.bulk_create(
        Environment(
            path=f"/q/env{start + i}",
            name=f"env{start + i}",
            kind="venv",
            status=("broken", "drifted", "in-sync")[i % 3],
            attention=i % 5,
            project=project,
            first_seen=now,
            last_seen=now,
            last_scanned=now,
            last_changed=now,
        )
        for i in range(count)
    )


@pytest.mark.parametrize("url", ["/", "/environments/", "/environments/?q=env&sort=-size"])
def test_query_count_does_not_grow_with_the_number_of_environments(
    db: None, user: Client, url: str
) -> None:
    _synthetic(5)
    with CaptureQueriesContext(connection) as few:
        assert user.get(url).status_code == 200
    _synthetic(60, start=100)
    with CaptureQueriesContext(connection) as many:
        assert user.get(url).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 9  # with the live pages' revision and the overview's "Scanning…"


def test_which_environments_have_a_package_below_a_version(scanned: Tree, user: Client) -> None:
    page = text(user.get("/packages/?name=ALPHA&below=1.1"))
    assert "2 environments have" in page
    assert "1</strong> below 1.1" in page
    rows = page.split("<tbody>")[1]
    in_sync_row = rows[rows.index(str(scanned.in_sync)) :]
    assert "badge--mismatch" in in_sync_row.split("</tr>")[0]  # 1.0 < 1.1
    drifted_row = rows[rows.index(str(scanned.drifted)) :]
    assert "badge--mismatch" not in drifted_row.split("</tr>")[0]  # 1.1 is not below 1.1


def test_versions_compare_as_versions_not_text(scanned: Tree, user: Client) -> None:
    page = text(user.get("/packages/?name=alpha&below=1.10"))  # 1.1 < 1.10 < 1.9 as text
    assert "2</strong> below 1.10" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [("name=alpha&below=not-a-version", "is not a version"), ("name=a%20b", "not a package")],
)
def test_the_package_search_explains_bad_input(
    scanned: Tree, user: Client, query: str, message: str
) -> None:
    response = user.get(f"/packages/?{query}")
    assert response.status_code == 400
    assert message in text(response)
