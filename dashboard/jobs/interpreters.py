"""The machine's base interpreters, as the worker probed them and the user added them.

Probing runs interpreters (subprocesses): the worker does it, never a page view, except
for the one path a user names in Settings.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dashboard.jobs.kinds import JobError
from dashboard.jobs.models import Interpreter
from envcore.errors import EnvcoreError
from envcore.interpreters import check_user_interpreter, list_interpreters

__all__ = ["add_user_interpreter", "refresh_interpreters"]


def refresh_interpreters() -> int:
    """Probe the machine's interpreters (subprocesses: worker only) and store the list.

    Only trusted places are looked at (PATH, pyenv, uv, conda) plus the ones the user
    added in Settings, which stay listed even when their probe fails this time.
    """
    added = list(Interpreter.objects.filter(source="user").values_list("path", flat=True))
    found = list_interpreters(added)
    now = timezone.now()
    with transaction.atomic():
        Interpreter.objects.exclude(source="user").exclude(
            path__in=[str(item.path) for item in found]
        ).delete()
        for item in found:
            defaults = {"version": item.version, "implementation": item.implementation}
            if str(item.path) not in added:
                defaults["source"] = item.source
            Interpreter.objects.update_or_create(
                path=str(item.path), defaults={**defaults, "found_at": now}
            )
    return len(found)


def add_user_interpreter(raw: str) -> Interpreter:
    """Store an interpreter the user names in Settings, once it answers as a base Python.

    The one probe a web request runs: the user asked for this very path to be run.
    """
    try:
        found = check_user_interpreter(raw)
    except EnvcoreError as exc:
        raise JobError(str(exc)) from exc
    if Interpreter.objects.filter(path=str(found.path)).exists():
        raise JobError(f"{found.path} is already listed")
    return Interpreter.objects.create(
        path=str(found.path),
        version=found.version,
        implementation=found.implementation,
        source="user",
        found_at=timezone.now(),
    )
