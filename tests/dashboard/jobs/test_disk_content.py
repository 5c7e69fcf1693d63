"""Package metadata on disk reaches pip only when it is plainly valid: the freeze job
reports what it skipped, and the recreate confirmation shows what comes from disk or URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.jobs.queue import run_job
from dashboard.models import Environment
from dashboard.tasks import scan
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import work
from tests.envtools import make_venv, pip
from tests.wheelmaker import make_project, write_wheel

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_freeze_write_skips_folded_metadata_and_says_so(
    tmp_path: Path, settings: SettingsWrapper, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "app" / ".venv", ["alpha==1.1"], wheelhouse=wheelhouse)
    info = inspect_environment(env).site_packages[0] / "evil-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n -e /tmp\n\n")
    scan.call()
    row = Environment.objects.get(path=str(env))
    assert "-e" not in row.freeze_text
    client = log_in(Client())
    client.post(f"/environments/{row.pk}/jobs/freeze/", {"mode": "plain", "write": "1"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert (tmp_path / "app" / "requirements.txt").read_text() == "alpha==1.1\n"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "skipped evil: invalid version in its metadata" in page


def test_the_recreate_confirmation_lists_what_is_reinstalled_from_disk_or_urls(
    tmp_path: Path, settings: SettingsWrapper, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "solo" / ".venv", ["alpha==1.1"], wheelhouse=wheelhouse)
    project = make_project(tmp_path / "src" / "local-proj", "local-proj", "0.2")
    pip("install", "--no-index", "--no-deps", "-e", str(project), env=env)
    direct = write_wheel(tmp_path / "direct", "direct-pkg", "0.9")
    pip("install", "--no-index", "--no-deps", str(direct), env=env)
    planted = inspect_environment(env).site_packages[0] / "durl-1.0.dist-info"
    planted.mkdir()
    (planted / "METADATA").write_text("Metadata-Version: 2.1\nName: durl\nVersion: 1.0\n\n")
    (planted / "direct_url.json").write_text(
        json.dumps({"url": "file:///tmp/x\n-e /tmp/evil", "archive_info": {}})
    )
    scan.call()
    row = Environment.objects.get(path=str(env))
    page = log_in(Client()).post(f"/environments/{row.pk}/jobs/recreate/").content.decode()
    assert f'editable: local-proj <span class="mono">{project}</span>' in page
    assert "from a URL: direct-pkg" in page and direct.as_uri() in page
    reinstalled = page.split('class="from-sources"')[1].split("</ul>")[0]
    assert "alpha" not in reinstalled and "durl" not in reinstalled
    left_out = page.split('class="left-out"')[1].split("</ul>")[0]
    assert "durl" in left_out and "invalid URL in its direct_url.json" in left_out


@pytest.mark.parametrize("kind", ["sync", "recreate"])
def test_a_requirements_file_including_a_file_outside_the_roots_never_reaches_pip(
    kind: str, tmp_path: Path, settings: SettingsWrapper, wheelhouse: Path
) -> None:
    root = tmp_path / "root"
    settings.SCAN_ROOTS = [root]
    env = make_venv(root / "app" / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    shadow = tmp_path / "shadow"
    shadow.write_text("root:*:20228:0:99999:7:::\n")
    requirements = root / "app" / "requirements.txt"
    requirements.write_text("alpha==1.1\n")
    scan.call()
    row = Environment.objects.get(path=str(env))
    requirements.write_text(f"alpha==1.1\n-r {shadow}\n")
    client = log_in(Client())
    response = client.post(f"/environments/{row.pk}/jobs/{kind}/", {"confirmed": "1"}, follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "outside the scan roots" in messages[0], messages
    assert not Job.objects.exists()
    # A job queued before the file changed is refused when it runs, before pip starts.
    queued = Job.objects.create(
        kind=kind, environment=row, env_path=row.path, params={"remove_untracked": False}
    )
    run_job.call(queued.pk)
    job = Job.objects.get()
    assert job.state == "failed" and "outside the scan roots" in job.summary, job.summary
    assert "\n" not in job.summary and "root:*" not in job.summary
    # At most which installer it would have used, then the outcome: no command ran.
    texts = [line.text for line in job.lines.all()]
    assert not job.lines.filter(stream="cmd").exists() and texts[-1].startswith("failed: ")
    assert all(text.startswith("installer: ") for text in texts[:-1]), texts
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "root:*" not in page
    assert read_inventory(inspect_environment(env)).by_name["alpha"].display_version == "1.0"
