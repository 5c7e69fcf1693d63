"""What every job kind's Form is made of: fields taken as posted, so that each refusal is
the kind's own one line (see `kinds`), and the base Form that turns into job parameters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dashboard.models import Environment
from dashboard.scanning import scan_plan
from envcore import ops
from envcore.errors import EnvcoreError, InvalidSpecError, PathNotAllowedError

__all__ = [
    "Flag",
    "JobError",
    "JobForm",
    "JobStateError",
    "RetryForm",
    "Text",
    "clean_project_name",
    "refuse_requirements_outside_roots",
]


class JobError(ValueError):
    """Input a job cannot accept; the message is shown to the user as is."""


class JobStateError(JobError):
    """The request is well formed but the state of the environment or job refuses it (gone,
    broken, still running): the JSON API answers 409 for these, 400 for other refusals."""


class Text(forms.Field):
    """A field taken as posted, for the Form's own clean methods to judge: no required or
    null-character checks of Django's, so every refusal is the kind's own one line."""

    def __init__(self, *, absent: str = "") -> None:
        super().__init__(required=False)
        self.absent = absent

    def to_python(self, value: Any) -> str:
        return self.absent if value is None else str(value)


class Flag(forms.Field):
    """A checkbox or hidden input that is on only when posted as "1" (as the pages do)."""

    def __init__(self) -> None:
        super().__init__(required=False)

    def to_python(self, value: Any) -> bool:
        return isinstance(value, str) and value == "1"


class JobForm(forms.Form):
    """One kind's input. Once valid, `params()` is what the job stores and runs with."""

    def __init__(self, data: Mapping[str, Any], env: Environment | None = None) -> None:
        super().__init__(data)
        self._env = env

    @property
    def env(self) -> Environment:
        if self._env is None:
            raise TypeError("this kind runs on an existing environment")
        return self._env

    def params(self) -> dict[str, Any]:
        raise NotImplementedError

    def first_error(self) -> str:
        """The refusal shown to the user: the first check that failed, as today's pages say."""
        return str(next(iter(self.errors.values()))[0])


def clean_project_name(text: str) -> str:
    try:
        return ops.project_name(text)
    except InvalidSpecError as exc:
        raise ValidationError(str(exc)) from exc


def refuse_requirements_outside_roots(env: Environment) -> None:
    """Refuse now what the job would refuse when it runs: a requirements file leading out of
    the scan roots, which pip would read (the job checks again: the file may change)."""
    if not env.requirements_source:
        return
    try:
        ops.requirements_inside_roots(Path(env.requirements_source), scan_plan().roots)
    except PathNotAllowedError as exc:
        raise ValidationError(str(exc)) from exc
    except EnvcoreError:
        pass  # unreadable now: the job reports why when it runs


class RetryForm(forms.Form):
    """What a Retry may change: nothing, or the installer to pip ("Retry with pip", offered
    when a job that ran with uv failed). Any other value is refused, not passed on."""

    installer = forms.ChoiceField(
        choices=[("", "the same installer"), ("pip", "pip")],
        required=False,
        error_messages={"invalid_choice": "a job can only be retried as it was, or with pip"},
    )
