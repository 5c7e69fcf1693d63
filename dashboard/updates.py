"""Update checks: ask the package indexes (on the worker) what each distribution could
become, and store it on the distribution rows for the pages to show."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from packaging.utils import canonicalize_name

from dashboard.indexes import index_config
from dashboard.live import bump
from dashboard.models import Distribution, Environment
from dashboard.queues import machine_queue
from dashboard.scanning import scan_plan
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.errors import EnvcoreError
from envcore.index import IndexClient
from envcore.outdated import allowed_by, outdated

__all__ = ["check_updates", "enqueue_update_check", "update_check"]


def _client(env_path: Path) -> IndexClient:
    return IndexClient(
        index_config(env_path),
        cache_dir=Path(settings.DATA_DIR) / "index-cache",
        ttl=float(settings.INDEX_TTL),
        offline=bool(settings.INDEX_OFFLINE),
    )


def check_updates(env: Environment, *, announce: bool = False) -> int:
    """Store latest / latest allowed / jump for every distribution; returns N upgradable.

    Open pages re-fetch (the revision moves) when a version shown changed, or when the
    user asked (`announce`: "checked just now"). The watcher re-checks every environment
    whenever the index cache expires: most of those change nothing, and must not make
    every open page fetch itself again.
    """
    facts = inspect_environment(env.path)
    parsed = None
    if env.requirements_source:
        try:
            # A lock is read for the environment's Python, not the worker's own, and
            # "latest allowed" follows the ranges its project declares, not its pins.
            parsed = allowed_by(
                Path(env.requirements_source),
                facts.marker_environment(),
                roots=scan_plan().roots,
            )
        except EnvcoreError:
            parsed = None  # the drift tab already reports why
    report = outdated(facts, read_inventory(facts), _client(facts.path), parsed)
    by_name = {dist.name: dist for dist in Distribution.objects.filter(environment=env)}
    changed = []
    for item in report.packages:
        row = by_name.get(canonicalize_name(item.name))
        if row is None:
            continue
        values = {
            "latest": item.latest or "",
            "latest_allowed": item.latest_allowed or "",
            "jump": item.jump if item.status == "upgradable" else "",
            "update_status": item.status,
            "update_reason": item.reason[:512],
            "choices": list(item.choices),
        }
        if any(getattr(row, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            changed.append(row)
    upgradable = len(report.upgradable)
    with transaction.atomic():
        Distribution.objects.bulk_update(changed, _UPDATE_FIELDS)
        Environment.objects.filter(pk=env.pk).update(
            upgradable=upgradable, updates_checked_at=timezone.now()
        )
        if announce or changed or env.upgradable != upgradable or not env.updates_checked_at:
            bump()
    return upgradable


_UPDATE_FIELDS = ["latest", "latest_allowed", "jump", "update_status", "update_reason", "choices"]


@task()
def update_check(env_id: int, announce: bool = False) -> int:
    env = Environment.objects.filter(pk=env_id, gone_at__isnull=True).first()
    if env is None:
        return 0
    return check_updates(env, announce=announce)


def enqueue_update_check(env: Environment, *, announce: bool = False) -> None:
    """Queue a check; `announce` when the user asked for it (see `check_updates`)."""
    update_check.using(queue_name=machine_queue()).enqueue(env.pk, announce=announce)
