"""Plan first, then apply: what to plan (fix drift, a row's install or remove, upgrade all)
and which finished plan to apply, as job Forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from dashboard.jobs.forms import (
    Flag,
    JobForm,
    Text,
    clean_project_name,
    refuse_requirements_outside_roots,
)
from dashboard.jobs.models import Job
from dashboard.text import is_number
from envcore.text import counted

__all__ = ["PLAN_PURPOSES", "ApplyForm", "PlanForm"]


# -- plan first, then apply: fix drift, per-row install / remove, upgrade all -------------

#: What a plan is for, and how its pages name it.
PLAN_PURPOSES: dict[str, str] = {
    "sync": "Fix drift",
    "install": "Install",
    "remove": "Remove",
    "upgrade": "Upgrade all",
}
#: Drift statuses a per-row Install fixes: the requirement's own specifier is installed.
_INSTALLABLE = frozenset({"missing", "mismatch"})


class PlanForm(JobForm):
    """What to plan. Only a purpose and a package name come from the form: the versions are
    the requirement's (from the last scan) or whatever the installer's dry run picks."""

    purpose = Text()
    name = Text()
    remove_untracked = Flag()
    include_tools = Flag()

    def clean_purpose(self) -> str:
        purpose: str = self.cleaned_data["purpose"]
        if purpose not in PLAN_PURPOSES:
            raise ValidationError("plan for fix drift, install, remove or upgrade all")
        return purpose

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        purpose = data.get("purpose")
        if purpose in {"sync", "upgrade"}:
            refuse_requirements_outside_roots(self.env)
            if not self.env.requirements_source:
                lacking = "to sync with" if purpose == "sync" else "naming what to upgrade"
                raise ValidationError(f"this environment has no requirements file {lacking}")
        elif purpose == "install":
            data["name"] = clean_project_name(data["name"])
            data["spec"] = self._required_spec(data["name"])
        elif purpose == "remove":
            name = clean_project_name(data["name"])
            if not self.env.distributions.filter(name=canonicalize_name(name)).exists():
                raise ValidationError(f"{name} is not installed here (any more); rescan")
            data["name"] = name
        return data

    def _required_spec(self, name: str) -> str:
        """`name` plus its requirement's specifier, as the last scan read it."""
        items = self.env.drift_items.filter(status__in=_INSTALLABLE)
        wanted = canonicalize_name(name)
        item = next((i for i in items if canonicalize_name(i.name) == wanted), None)
        if item is None:
            raise ValidationError(f"no requirement of {name} is missing or mismatched; rescan")
        try:
            specifier = SpecifierSet(item.required)
        except InvalidSpecifier as exc:
            # A URL or editable requirement: only the whole sync knows how to install it.
            raise ValidationError(
                f"{name} is required as {item.required}: use Fix drift to install it"
            ) from exc
        return f"{name}{specifier}"

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        purpose = data["purpose"]
        params: dict[str, Any] = {
            "purpose": purpose,
            "remove_untracked": data["remove_untracked"],
            "include_tools": data["include_tools"],
        }
        source = Path(self.env.requirements_source).name
        if purpose == "sync":
            what = f"fix drift with {source}"
            if data["remove_untracked"]:
                what += ", removing untracked"
        elif purpose == "install":
            params["name"], params["specs"] = data["name"], [data["spec"]]
            what = f"install {data['spec']}"
        elif purpose == "remove":
            params["name"], params["names"] = data["name"], [data["name"]]
            what = f"remove {data['name']}"
        else:
            what = f"upgrade all within {source}"
            if data["include_tools"]:
                what += " and pip, setuptools, wheel"
        return {**params, "what": what}


class ApplyForm(JobForm):
    """Apply a finished plan of this environment: exactly its pins and removals."""

    plan = Text()

    def clean_plan(self) -> Job:
        raw: str = self.cleaned_data["plan"]
        job = (
            Job.objects.filter(
                pk=int(raw), kind=Job.Kind.PLAN, environment=self.env, state=Job.State.SUCCEEDED
            ).first()
            if is_number(raw)
            else None
        )
        if job is None or not isinstance(job.result.get("plan"), dict):
            raise ValidationError("that plan is not one of this environment's; plan again")
        if not job.result["plan"].get("actions"):
            raise ValidationError("that plan changes nothing")
        return job

    def params(self) -> dict[str, Any]:
        planned: Job = self.cleaned_data["plan"]
        actions = planned.result["plan"]["actions"]
        return {
            "plan": planned.result["plan"],
            "plan_job": planned.pk,
            "what": f"{planned.params.get('what', 'plan')} ({counted(len(actions), 'change')})",
        }
