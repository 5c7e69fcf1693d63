"""The machine's base interpreters, as the worker probed them and the user added them, and
which one a form preselects.

Probing runs interpreters (subprocesses): the worker does it, never a page view, except
for the one path a user names in Settings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from dashboard.jobs.forms import JobError
from dashboard.jobs.models import Interpreter
from dashboard.live import bump
from dashboard.models import Environment
from envcore.errors import EnvcoreError
from envcore.interpreters import (
    check_user_interpreter,
    default_interpreter,
    is_end_of_life,
    list_interpreters,
    nearest_interpreter,
    newest_first,
    project_requires_python,
    trusted_base,
)
from envcore.requirements import roots_refusal
from envcore.versions import parse_specifier

__all__ = [
    "NewDefault",
    "RecreateDefault",
    "add_user_interpreter",
    "listed_interpreters",
    "new_environment_default",
    "recreate_default",
    "refresh_interpreters",
]


def _present(interpreters: Sequence[Interpreter]) -> list[Interpreter]:
    """Those whose file is still there: one removed since the worker's last probe must not
    be preselected (a recreate with it would only fail). A stat each, never a run."""
    return [row for row in interpreters if os.access(row.path, os.X_OK)]


def listed_interpreters() -> list[Interpreter]:
    """Every known interpreter, newest version first: sorted as versions (3.13 before 3.9),
    which the database cannot do with the version stored as text."""
    return newest_first(Interpreter.objects.all())


@dataclass(frozen=True)
class NewDefault:
    """What a new environment gets when the user leaves the interpreter to envdash."""

    interpreter: Interpreter | None
    #: The project's `requires-python`, and the pyproject.toml it was read from.
    requires_python: str | None = None
    source: Path | None = None

    @property
    def reason(self) -> str:
        """Why this one, in a phrase for the form; or, with none, the refusal."""
        rule = f"requires-python {self.requires_python!r} (in {self.source})"
        allowed = f" that {rule} allows" if self.requires_python else ""
        if self.interpreter is None:
            return f"{rule} allows none of the interpreters found on this machine"
        if is_end_of_life(self.interpreter.version, timezone.localdate()):
            return f"the newest installed Python{allowed}; all are past their end of life"
        return f"the newest installed Python not past its end of life{allowed}"


def new_environment_default(
    path: Path | None, requirements: Path | None, roots: Sequence[Path]
) -> NewDefault:
    """The newest interpreter the project allows and that is still supported (see
    `envcore.interpreters.default_interpreter`). The project is the new environment's
    directory (`app` for `app/.venv`), else the requirements file's; its pyproject.toml is
    read only inside the scan roots."""
    interpreters = _present(listed_interpreters())
    today = timezone.localdate()
    for project in [p.parent for p in (path, requirements) if p is not None]:
        if roots_refusal(project / "pyproject.toml", roots):
            continue  # after links: a planted pyproject.toml link is not read
        requires = project_requires_python(project)
        if requires and parse_specifier(requires) is not None:  # else it tells nothing
            picked = default_interpreter(interpreters, requires_python=requires, today=today)
            return NewDefault(picked, requires, project / "pyproject.toml")
    return NewDefault(default_interpreter(interpreters, today=today))


@dataclass(frozen=True)
class RecreateDefault:
    """What a recreate preselects: the environment's own base when it is a trusted
    interpreter (`same`), else the one nearest to the environment's Python version."""

    interpreter: Interpreter | None
    same: bool


def recreate_default(env: Environment, interpreters: Sequence[Interpreter]) -> RecreateDefault:
    """Never the base that is gone (a recreate of a broken environment with it would only
    fail, and so would its Retry): the same major.minor first, then the nearest newer..."""
    same = trusted_base(env.base_interpreter, [row.path for row in interpreters])
    if same is not None:
        return RecreateDefault(next(r for r in interpreters if r.path == str(same)), True)
    return RecreateDefault(nearest_interpreter(_present(interpreters), env.python_version), False)


def refresh_interpreters() -> int:
    """Probe the machine's interpreters (subprocesses: worker only) and store the list.

    Only trusted places are looked at (PATH, pyenv, uv, conda) plus the ones the user
    added in Settings, which stay listed even when their probe fails this time.
    """
    added = list(Interpreter.objects.filter(source="user").values_list("path", flat=True))
    found = list_interpreters(added)
    now = timezone.now()
    with transaction.atomic():
        before = set(Interpreter.objects.values_list("path", "version"))
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
        if set(Interpreter.objects.values_list("path", "version")) != before:
            bump()  # an open New environment page waiting for its first interpreters
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
