"""Plan, confirm, apply: Fix drift, a row's Install / Remove, Upgrade all, on real venvs
with real pip from an offline wheelhouse, run by the real worker."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.models import Environment
from dashboard.scanning import scan_environment, scan_tree
from envcore import ops
from tests.dashboard.conftest import log_in, row
from tests.dashboard.jobs.conftest import installed, work
from tests.envtools import make_venv
from tests.trees import Tree
from tests.wheelmaker import make_project

pytestmark = pytest.mark.django_db(transaction=True)


def _plan(client: Client, env: Environment, **form: str) -> Job:
    """POST a plan request; it is queued (never run in the request) and its page shown."""
    response = client.post(f"/environments/{env.pk}/plan/", form)
    job = Job.objects.filter(kind="plan").latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/environments/{env.pk}/plans/{job.pk}/"
    return job


def _confirm(client: Client, env: Environment, plan: Job) -> Job:
    response = client.post(f"/environments/{env.pk}/plans/{plan.pk}/")
    applied = Job.objects.filter(kind="apply").latest("pk")
    assert response["Location"] == f"/environments/{env.pk}/?job={applied.pk}"
    return applied


def _actions_panel(page: str) -> str:
    start = page.index('id="env-actions"')
    return page[start : page.index("</section>", start)]


def _requirements(env: Environment, text: str) -> None:
    Path(env.requirements_source).write_text(text)
    scan_environment(env.path)


def test_fix_drift_shows_the_plan_then_applies_exactly_it(project: Environment) -> None:
    client = log_in(Client())
    page = client.get(f"/environments/{project.pk}/").content.decode()
    assert re.search(r'<form id="fix-drift"[^>]*>.*?class="primary">Fix drift<', page, re.S)

    plan = _plan(client, project, purpose="sync")
    waiting = client.get(f"/environments/{plan.environment_id}/plans/{plan.pk}/").content.decode()
    assert "Working out what would change" in waiting
    assert 'hx-trigger="every 250ms"' in waiting and 'http-equiv="refresh"' in waiting
    assert installed(project)["alpha"] == "1.0"  # the request ran nothing

    work()
    plan.refresh_from_db()
    assert plan.state == "succeeded", plan.summary
    assert installed(project)["alpha"] == "1.0"  # a plan changes nothing
    url = f"/environments/{project.pk}/plans/{plan.pk}/"
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="plan").content.decode()
    assert fragment.lstrip().startswith('<section id="plan"')  # the fragment alone
    assert "hx-trigger" not in fragment  # done: the polling stops
    row = re.search(r'<tr class="plan-upgrade" data-package="alpha">(.*?)</tr>', fragment, re.S)
    assert row is not None
    assert re.findall(r'<td class="mono">([^<]*)</td>', row.group(1)) == ["1.0", "1.1"]
    assert "Apply 1 change<" in fragment

    applied = _confirm(client, project, plan)
    assert applied.params["plan"] == plan.result["plan"]  # exactly the plan that was shown
    following = client.get(f"/environments/{project.pk}/?job={applied.pk}").content.decode()
    assert 'id="env-job"' in following and "working…" in following
    assert 'http-equiv="refresh"' in following  # without JavaScript: refreshes until done
    assert '<main id="main" data-live>' in following  # with it: the live regions follow
    assert 'hx-trigger="every 300ms"' in following  # ... asked by the banner's own poll
    poll = {"HX-Request": "true", "HX-Target": "env-job"}
    following_url = f"/environments/{project.pk}/?job={applied.pk}"
    assert client.get(following_url, headers=poll).status_code == 204  # not yet: nothing to swap
    work()
    applied.refresh_from_db()
    assert applied.state == "succeeded", applied.summary
    assert installed(project)["alpha"] == "1.1"
    project.refresh_from_db()
    assert project.status == "in-sync"
    settled = client.get(following_url, headers=poll)
    assert json.loads(settled["HX-Trigger"]) == {"envdash:changed": {}}  # live regions refresh
    assert "Done" in settled.content.decode() and "hx-trigger" not in settled.content.decode()
    done = client.get(following_url).content.decode()
    assert "badge--in-sync" in done and "Done" in done
    assert 'http-equiv="refresh"' not in done
    assert 'id="fix-drift"' not in done


def test_a_plan_made_before_the_env_changed_is_refused_and_offered_again(
    project: Environment,
) -> None:
    client = log_in(Client())
    plan = _plan(client, project, purpose="sync")
    work()
    # Meanwhile, by hand: the environment is no longer what the plan saw.
    subprocess.run(
        [f"{project.path}/bin/python", "-m", "pip", "install", "-q", "alpha==2.0"], check=True
    )
    applied = _confirm(client, project, plan)
    work()
    applied.refresh_from_db()
    assert applied.state == "failed"
    assert applied.summary and "\n" not in applied.summary
    assert installed(project)["alpha"] == "2.0"  # nothing applied from the stale plan
    page = client.get(f"/environments/{project.pk}/?job={applied.pk}").content.decode()
    again = re.search(r'action="([^"]+)" class="plan-again">(.*?)</form>', page, re.S)
    assert again is not None and again.group(1) == f"/environments/{project.pk}/plan/"
    assert 'name="purpose" value="sync"' in again.group(2)


def test_a_missing_requirement_is_listed_and_installed_from_its_row(project: Environment) -> None:
    _requirements(project, "alpha==1.0\nbeta==1.0\n")
    client = log_in(Client())
    page = client.get(f"/environments/{project.pk}/?tab=packages").content.decode()
    row = re.search(r'<tr class="attention" data-package="beta">(.*?)</tr>', page, re.S)
    assert row is not None and "not installed" in row.group(1)
    assert '<span class="sr-only"> beta</span> ==1.0</button>' in row.group(1)
    drift = client.get(f"/environments/{project.pk}/?tab=drift").content.decode()
    assert '<span class="sr-only"> beta</span> ==1.0</button>' in drift

    plan = _plan(client, project, purpose="install", name="beta")
    assert plan.params["specs"] == ["beta==1.0"]  # the version is the requirement's
    work()
    plan.refresh_from_db()
    actions = plan.result["plan"]["actions"]
    assert [(a["name"].lower(), a["action"], a["to"]) for a in actions] == [
        ("beta", "install", "1.0")
    ]
    _confirm(client, project, plan)
    work()
    assert installed(project)["beta"] == "1.0"


def test_an_untracked_package_is_removed_from_its_row(
    project: Environment, wheelhouse: Path
) -> None:
    subprocess.run(
        [f"{project.path}/bin/python", "-m", "pip", "install", "-q", "delta-pkg.two"], check=True
    )
    scan_environment(project.path)
    client = log_in(Client())
    drift = client.get(f"/environments/{project.pk}/?tab=drift").content.decode()
    assert 'value="remove"><input type="hidden" name="name" value="Delta_Pkg.Two">' in drift
    plan = _plan(client, project, purpose="remove", name="Delta_Pkg.Two")
    work()
    plan.refresh_from_db()
    assert [a["action"] for a in plan.result["plan"]["actions"]] == ["remove"]
    page = client.get(f"/environments/{project.pk}/plans/{plan.pk}/").content.decode()
    assert "This removes" in page
    _confirm(client, project, plan)
    work()
    assert "delta-pkg-two" not in installed(project) and "delta_pkg.two" not in installed(project)


@pytest.mark.parametrize(
    ("form", "refusal"),
    [
        ({"purpose": "rm -rf"}, "plan for fix drift, install, remove or upgrade all"),
        ({"purpose": "install", "name": "--index-url=http://evil.example"}, "not a valid"),
        ({"purpose": "install", "name": "alpha; rm -rf /"}, "not a valid"),
        ({"purpose": "install", "name": "gamma"}, "no requirement of gamma is missing"),
        ({"purpose": "remove", "name": "gamma"}, "gamma is not installed here"),
    ],
)
def test_plan_requests_are_refused_in_one_line_before_anything_runs(
    project: Environment, form: dict[str, str], refusal: str
) -> None:
    client = log_in(Client())
    response = client.post(f"/environments/{project.pk}/plan/", form, follow=True)
    assert not Job.objects.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and refusal in messages[0] and "\n" not in messages[0]


def test_only_a_finished_plan_of_the_same_environment_can_be_applied(
    project: Environment,
) -> None:
    client = log_in(Client())
    plan = _plan(client, project, purpose="sync")
    # Not finished yet: nothing to apply.
    response = client.post(f"/environments/{project.pk}/plans/{plan.pk}/", follow=True)
    assert not Job.objects.filter(kind="apply").exists()
    assert "plan again" in str(next(iter(response.context["messages"])))
    other = Environment.objects.create(
        path="/elsewhere/.venv",
        name="other",
        kind="venv",
        first_seen=project.first_seen,
        last_seen=project.last_seen,
        last_scanned=project.last_scanned,
        last_changed=project.last_changed,
    )
    assert client.post(f"/environments/{other.pk}/plans/{plan.pk}/").status_code == 404


def test_every_post_needs_the_csrf_token(project: Environment) -> None:
    client = log_in(Client(enforce_csrf_checks=True))
    assert client.post(f"/environments/{project.pk}/plan/", {"purpose": "sync"}).status_code == 403
    assert client.get(f"/environments/{project.pk}/plan/").status_code == 405
    assert not Job.objects.exists()


def test_upgrade_all_plans_within_the_requirements_and_leaves_the_tools(
    project: Environment,
) -> None:
    _requirements(project, "alpha<2\n")
    client = log_in(Client())
    page = client.get(f"/environments/{project.pk}/").content.decode()
    form = re.search(r'<form id="upgrade-all"(.*?)</form>', page, re.S)
    assert form is not None and 'name="include_tools" value="1"' in form.group(1)
    plan = _plan(client, project, purpose="upgrade")
    assert plan.params["include_tools"] is False
    work()
    plan.refresh_from_db()
    assert plan.state == "succeeded", plan.summary
    changes = [(a["name"].lower(), a["from"], a["to"]) for a in plan.result["plan"]["actions"]]
    assert changes == [("alpha", "1.0", "1.1")]  # not 2.0, and not pip
    asked = _plan(client, project, purpose="upgrade", include_tools="1")
    assert asked.params["include_tools"] is True
    assert "pip, setuptools, wheel" in asked.params["what"]


def test_a_broken_environment_offers_recreate_and_no_package_action(scanned: Tree) -> None:
    client = log_in(Client())
    broken = client.get(f"/environments/{row(scanned.broken).pk}/").content.decode()
    actions = _actions_panel(broken)
    assert re.findall(r'<button type="submit" class="primary">([^<]*)<', actions) == ["Recreate…"]
    assert 'id="job-install"' not in broken and 'id="fix-drift"' not in broken
    assert "/plan/" not in broken  # no row buttons either
    drifted = client.get(f"/environments/{row(scanned.drifted).pk}/").content.decode()
    actions = _actions_panel(drifted)
    primary = re.findall(r'<button type="submit" class="primary">([^<]*)<', actions)
    assert primary == ["Fix drift"]  # one primary action


@pytest.mark.parametrize("config", ["tox.ini", "pyproject.toml"])
def test_fix_drift_of_a_tox_env_plans_the_deps_its_page_shows(
    config: str,
    tmp_path: Path,
    settings: SettingsWrapper,
    wheelhouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page holds a tox env to its `deps` (tox.ini, or `[tool.tox]` beside the project's
    own `[project]` dependencies): the job plans exactly those, as `plan_sync` does."""
    settings.SCAN_ROOTS = [tmp_path]
    settings.INSTALLER = "pip"
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    project = tmp_path / "tx"
    project.mkdir()
    if config == "tox.ini":
        (project / "tox.ini").write_text("[testenv]\ndeps =\n    alpha==1.1\n")
    else:
        (project / "pyproject.toml").write_text(
            '[project]\nname = "tx"\nversion = "0"\ndependencies = ["beta"]\n\n'
            '[tool.tox.env_run_base]\ndeps = ["alpha==1.1"]\n'
        )
    path = project / ".tox" / "py"
    make_venv(path, ["alpha==1.0", "Delta_Pkg.Two==3.0"], wheelhouse=wheelhouse, with_pip=True)
    scan_tree()
    env = Environment.objects.get()
    assert (env.source_kind, env.requirements_source) == ("tox", str(project / config))
    plan = _plan(log_in(Client()), env, purpose="sync", remove_untracked="1")
    work()
    plan.refresh_from_db()
    assert plan.state == "succeeded", plan.summary
    planned = [(c["name"], c["action"]) for c in plan.result["plan"]["actions"]]
    assert planned == [("alpha", "upgrade"), ("Delta_Pkg.Two", "remove")]
    direct = ops.plan_sync(path, None, context=ops.Context(installer="pip", roots=[tmp_path]))
    assert planned == [(c.name, c.action) for c in direct.changes]


@pytest.mark.parametrize("config", ["Pipfile", "tox.ini"])
def test_fix_drift_refuses_a_project_outside_the_roots_that_a_file_names(
    config: str,
    tmp_path: Path,
    settings: SettingsWrapper,
    wheelhouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job reaches envcore's roots check: a directory outside the scan roots named by
    the file the page holds the env to (written after the plan was queued, past the form's
    own check) is refused in one line, and nothing builds it."""
    root = tmp_path / "root"
    settings.SCAN_ROOTS = [root]
    settings.INSTALLER = "pip"
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    mark = tmp_path / "built"
    evil = make_project(tmp_path / "outside" / "evil", "evil", "1.0")
    backend = evil / "wheelmaker.py"
    backend.write_text(backend.read_text() + f"\nPath({str(mark)!r}).write_text('built')\n")
    project = root / "proj"
    project.mkdir(parents=True)
    if config == "Pipfile":
        benign, hostile = '[packages]\nalpha = "*"\n', f'[packages]\nevil = {{path = "{evil}"}}\n'
        path = project / ".venv"
    else:
        benign, hostile = "[testenv]\ndeps =\n    alpha\n", f"[testenv]\ndeps =\n    -e {evil}\n"
        path = project / ".tox" / "py"
    (project / config).write_text(benign)
    make_venv(path, ["alpha==1.0"], wheelhouse=wheelhouse, with_pip=True)
    scan_tree()
    env = Environment.objects.get()
    assert env.requirements_source == str(project / config)
    plan = _plan(log_in(Client()), env, purpose="sync")
    (project / config).write_text(hostile)
    work()
    plan.refresh_from_db()
    assert plan.state == "failed"
    assert plan.summary.startswith("cannot sync: ") and "\n" not in plan.summary
    assert f"at {evil}, which is outside the scan roots" in plan.summary
    assert not mark.exists()
