"""The job kinds that change an environment's packages in place: install, upgrade, upgrade
all and uninstall, then sync with and freeze to its requirements file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from packaging.utils import canonicalize_name

from dashboard.jobs.forms import (
    Flag,
    JobForm,
    Text,
    clean_project_name,
    refuse_requirements_outside_roots,
)
from dashboard.lockpins import every_pinned_refusal, pin_refusal, pinned_items
from dashboard.models import DriftItem
from envcore import ops
from envcore.errors import InvalidSpecError
from envcore.text import counted
from envcore.versions import parse_version

__all__ = [
    "FreezeForm",
    "InstallForm",
    "SyncForm",
    "UninstallForm",
    "UpgradeAllForm",
    "UpgradeForm",
]


# -- packages: install, upgrade, upgrade all, uninstall -----------------------------------


class InstallForm(JobForm):
    specs = Text()

    def clean_specs(self) -> list[str]:
        """PEP 508 requirements, one per line or separated by spaces (see
        `envcore.ops.split_user_specs`): `requests>=2.32,<3` is one requirement."""
        try:
            return [str(spec) for spec in ops.parse_user_specs(self.cleaned_data["specs"])]
        except InvalidSpecError as exc:
            raise ValidationError(str(exc)) from exc

    def params(self) -> dict[str, Any]:
        specs: list[str] = self.cleaned_data["specs"]
        return {"specs": specs, "what": ", ".join(specs)[:200]}


class UpgradeForm(JobForm):
    """One package to the latest allowed by the project's requirement, the latest, or an
    exact version (`version` wins over `target`)."""

    name = Text()
    target = Text()
    version = Text()

    def clean_name(self) -> str:
        return clean_project_name(self.cleaned_data["name"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data["version"].strip() or data["target"].strip() or "allowed"
        if target not in {"allowed", "latest"}:
            version = parse_version(target)
            if version is None:
                raise ValidationError(f"{target!r} is not a version number")
            target = str(version)
        data["target"] = target
        if "name" in data:
            # Held to a lock: the lock's tool moves a package it pins, never an upgrade here.
            pinned = pinned_items(self.env).get(canonicalize_name(data["name"]))
            if pinned is not None:
                raise ValidationError(pin_refusal(self.env, pinned))
        return data

    def params(self) -> dict[str, Any]:
        name, target = self.cleaned_data["name"], self.cleaned_data["target"]
        item = DriftItem.objects.filter(environment=self.env, name__iexact=name).first()
        bounded = item is not None and item.required.startswith(("=", "<", ">", "!", "~"))
        specifier = item.required if item is not None and bounded else ""
        return {
            "name": name,
            "target": target,
            "specifier": specifier,
            "what": f"{name} to {target}",
        }


class UpgradeAllForm(JobForm):
    """Every package with a newer version its requirement allows (from the update check)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rows = self.env.distributions.exclude(latest_allowed="")
        newer = [dist for dist in rows if _newer(dist.latest_allowed, dist.version)]
        # Held to a lock: only what the lock does not pin (untracked) is upgraded here.
        pinned = pinned_items(self.env)
        data["specs"] = [
            f"{dist.name}=={dist.latest_allowed}" for dist in newer if dist.name not in pinned
        ]
        if not data["specs"]:
            held = [pinned[dist.name] for dist in newer if dist.name in pinned]
            raise ValidationError(
                every_pinned_refusal(self.env, held)
                or "nothing to upgrade within the requirements (check for updates first)"
            )
        return data

    def params(self) -> dict[str, Any]:
        specs: list[str] = self.cleaned_data["specs"]
        return {"specs": specs, "what": f"{counted(len(specs), 'package')} within the requirements"}


def _newer(candidate: str, installed: str) -> bool:
    new, old = parse_version(candidate), parse_version(installed)
    return new is not None and old is not None and new > old


class UninstallForm(JobForm):
    name = Text()

    def clean_name(self) -> str:
        return clean_project_name(self.cleaned_data["name"])

    def params(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "what": self.cleaned_data["name"]}


# -- the requirements file: sync, freeze --------------------------------------------------


class SyncForm(JobForm):
    remove_untracked = Flag()

    def clean(self) -> dict[str, Any]:
        refuse_requirements_outside_roots(self.env)
        if not self.env.requirements_source:
            raise ValidationError("this environment has no requirements file to sync with")
        return super().clean() or {}

    def params(self) -> dict[str, Any]:
        what = "with " + Path(self.env.requirements_source).name
        return {"remove_untracked": self.cleaned_data["remove_untracked"], "what": what}


class FreezeForm(JobForm):
    """A preview of the frozen requirements (a diff), or writing them once previewed:
    `expected` is the digest of the file the preview saw, `previewed` the file it was for.

    Modes: `plain` writes what `pip freeze` prints to a new lock file beside the
    requirements (`ops.default_freeze_target`); `replace` writes it over the requirements
    file itself, only when the user picks that; `update` changes in place only the lines
    the environment no longer satisfies."""

    mode = Text(absent="plain")
    write = Flag()
    expected = Text()
    previewed = Text()

    def clean_mode(self) -> str:
        mode: str = self.cleaned_data["mode"]
        if mode not in {"plain", "replace", "update"}:
            raise ValidationError("freeze mode is plain, replace or update")
        return mode

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "mode" not in data:
            return data
        source = self.env.requirements_source
        if data["mode"] in {"update", "replace"}:
            if not source or not source.endswith(".txt"):
                raise ValidationError(
                    f"{data['mode']} mode needs a requirements .txt file to {data['mode']}"
                )
            target = source
        else:
            env = self.env
            project = Path(env.project.path) if env.project else Path(env.path).parent
            target = str(ops.default_freeze_target(Path(source) if source else None, project))
        if data["write"] and data["previewed"] and data["previewed"] != target:
            raise ValidationError(
                f"the freeze now goes to {target}, not {data['previewed']}; preview it again"
            )
        data["target"] = target
        return data

    def params(self) -> dict[str, Any]:
        mode, target, write = (self.cleaned_data[key] for key in ("mode", "target", "write"))
        what = f"{'write' if write else 'preview'} {Path(target).name} ({mode})"
        expected = self.cleaned_data["expected"]
        return {"mode": mode, "target": target, "write": write, "expected": expected, "what": what}
