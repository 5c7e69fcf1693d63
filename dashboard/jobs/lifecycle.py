"""The job kinds that make, replace or remove an environment: create (a new one), recreate
and delete (both asked to confirm first), each a Form whose refusal is one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from dashboard.jobs.forms import Flag, JobForm, Text, refuse_requirements_outside_roots
from dashboard.jobs.interpreters import (
    NewDefault,
    listed_interpreters,
    new_environment_default,
    recreate_default,
)
from dashboard.jobs.models import Interpreter
from dashboard.models import Environment
from dashboard.scanning import scan_plan
from dashboard.text import has_control_characters, is_number
from envcore import ops
from envcore.errors import PathNotAllowedError
from envcore.requirements import roots_refusal

__all__ = ["NO_INTERPRETERS", "CreateForm", "DeleteForm", "RecreateForm", "recreate_choices"]


NO_INTERPRETERS = (
    "no interpreters known yet: the worker finds them after a scan (or add one in Settings)"
)


def _listed_interpreter(chosen: str) -> Interpreter:
    """The interpreter row the form's value names; only those listed may run."""
    interpreter = Interpreter.objects.filter(pk=chosen).first() if is_number(chosen) else None
    if interpreter is None:
        raise ValidationError("choose one of the interpreters found on this machine")
    return interpreter


# -- create: a new environment ------------------------------------------------------------


class CreateForm(JobForm):
    """A new environment: a path inside the scan roots and a known interpreter, or (left
    empty) the newest supported one the project allows (`new_environment_default`)."""

    path = Text()
    requirements = Text()  # before the interpreter: the default depends on the project
    interpreter = Text()
    prompt = Text()
    system_site_packages = Flag()

    def clean_path(self) -> Path:
        raw = self.cleaned_data["path"].strip()
        if has_control_characters(raw):
            # A newline or NUL in a path breaks snapshots, logs and os calls alike.
            raise ValidationError("the path must be one line without control characters")
        path = Path(raw).expanduser()
        if not raw or not path.is_absolute():
            raise ValidationError(
                "give the new environment's absolute path, e.g. /home/me/app/.venv"
            )
        refusal = roots_refusal(path, scan_plan().roots, strictly=True)
        if refusal:
            raise ValidationError(f"{path} {refusal} (see Settings)")
        return path

    def clean_interpreter(self) -> Interpreter:
        chosen: str = self.cleaned_data["interpreter"]
        if chosen:
            return _listed_interpreter(chosen)
        default = self._default = self.default()
        if default.interpreter is None:
            raise ValidationError(
                f"{default.reason}: choose one, or add one in Settings"
                if Interpreter.objects.exists()
                else NO_INTERPRETERS
            )
        return default.interpreter

    _default: NewDefault | None = None

    def default(self) -> NewDefault:
        """The interpreter an empty choice stands for, given the path and requirements as
        far as they are valid (once cleaned, what the cleaning found)."""
        if self._default is not None:
            return self._default
        path = self.cleaned_data.get("path")
        requirements = self.cleaned_data.get("requirements")
        return new_environment_default(
            path if isinstance(path, Path) else None,
            Path(requirements) if requirements else None,
            scan_plan().roots,
        )

    def clean_prompt(self) -> str:
        prompt: str = self.cleaned_data["prompt"].strip()
        if len(prompt) > 60 or any(ch in prompt for ch in "\n\r\0"):
            raise ValidationError("the prompt must be one short line")
        return prompt

    def clean_requirements(self) -> str:
        """A regular file inside the scan roots (after symlinks), or "" for none.

        pip prints what it cannot parse, so any readable file named here would reach the
        job log: /etc/shadow, or a link inside a root that points out of it, is refused.
        """
        raw: str = self.cleaned_data["requirements"].strip()
        if not raw:
            return ""
        if has_control_characters(raw):
            raise ValidationError(
                "the requirements path must be one line without control characters"
            )
        if not Path(raw).is_absolute():
            raise ValidationError("the requirements file must be an absolute path")
        try:
            real = ops.inside_roots(Path(raw), scan_plan().roots)
        except PathNotAllowedError as exc:
            raise ValidationError(
                f"the requirements file {raw} is outside the scan roots (see Settings)"
            ) from exc
        if not real.is_file():
            raise ValidationError(f"the requirements file {raw} is not a regular file")
        return str(real)

    def params(self) -> dict[str, Any]:
        path: Path = self.cleaned_data["path"]
        interpreter: Interpreter = self.cleaned_data["interpreter"]
        return {
            "path": str(path),
            "interpreter": interpreter.path,
            "system_site_packages": self.cleaned_data["system_site_packages"],
            "prompt": self.cleaned_data["prompt"],
            "requirements": self.cleaned_data["requirements"],
            "what": f"{path.parent.name}/{path.name} with Python {interpreter.version}",
        }


# -- replacing and removing: recreate, delete (asked to confirm first) --------------------


class RecreateForm(JobForm):
    """The chosen interpreter, or else what the confirmation preselects: the trusted one
    that is the environment's base, or the installed one nearest to its Python version
    (`recreate_default`), never a base that is gone."""

    interpreter = Text()

    def clean(self) -> dict[str, Any]:
        refuse_requirements_outside_roots(self.env)
        data = super().clean() or {}
        chosen = data["interpreter"]
        if chosen:
            data["interpreter"] = _listed_interpreter(chosen)
            return data
        default = recreate_default(self.env, listed_interpreters()).interpreter
        if default is None:
            raise ValidationError(NO_INTERPRETERS)
        data["interpreter"] = default
        return data

    def params(self) -> dict[str, Any]:
        interpreter: Interpreter = self.cleaned_data["interpreter"]
        what = f"{self.env.name} with Python {interpreter.version}"
        return {"interpreter": interpreter.path, "what": what}


def recreate_choices(env: Environment) -> dict[str, object]:
    """The interpreters to choose from, and (when the env's own freeze is reinstalled) what
    comes from a location on disk or a URL and what is left out because its metadata could
    reach pip as an option, for the user to see before confirming."""
    interpreters = listed_interpreters()
    choices: dict[str, object] = {
        "interpreters": interpreters,
        "preselected": recreate_default(env, interpreters),
    }
    if not env.requirements_source:
        choices["from_sources"] = list(
            env.distributions.exclude(source_url="").filter(unsafe_reason="").order_by("name")
        )
        choices["left_out"] = list(env.distributions.exclude(unsafe_reason="").order_by("name"))
    return choices


class DeleteForm(JobForm):
    force = Flag()

    def params(self) -> dict[str, Any]:
        return {"force": self.cleaned_data["force"], "what": self.env.name}
