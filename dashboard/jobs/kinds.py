"""Job kinds: each one a Form (what the user may ask, refused in one line otherwise) and a
run function (what it does with envcore.ops), found by its name in `KINDS`.

Every job on an existing environment first passes `validate`: the environment must still
be on disk and inside the scan roots. The run functions are in `dashboard.jobs.operations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from dashboard.jobs import operations
from dashboard.jobs.forms import Flag, JobError, JobForm, JobStateError, Text
from dashboard.jobs.interpreters import (
    NewDefault,
    listed_interpreters,
    new_environment_default,
    recreate_default,
)
from dashboard.jobs.models import Interpreter, Job
from dashboard.lockpins import every_pinned_refusal, pin_refusal, pinned_items
from dashboard.models import DriftItem, Environment
from dashboard.scanning import scan_plan
from dashboard.text import has_control_characters, is_number
from envcore import ops
from envcore.errors import EnvcoreError, InvalidSpecError, PathNotAllowedError
from envcore.requirements import roots_refusal
from envcore.text import counted
from envcore.versions import parse_version

__all__ = [
    "KINDS",
    "PLAN_PURPOSES",
    "JobError",
    "JobStateError",
    "Kind",
    "validate",
    "validate_create",
]


def _name(text: str) -> str:
    try:
        return ops.project_name(text)
    except InvalidSpecError as exc:
        raise ValidationError(str(exc)) from exc


def _requirements_inside_roots(env: Environment) -> None:
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
        return _name(self.cleaned_data["name"])

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
        return _name(self.cleaned_data["name"])

    def params(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "what": self.cleaned_data["name"]}


# -- the requirements file: sync, freeze --------------------------------------------------


class SyncForm(JobForm):
    remove_untracked = Flag()

    def clean(self) -> dict[str, Any]:
        _requirements_inside_roots(self.env)
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


# -- replacing and removing: recreate, delete (asked to confirm first) --------------------


class RecreateForm(JobForm):
    """The chosen interpreter, or else what the confirmation preselects: the trusted one
    that is the environment's base, or the installed one nearest to its Python version
    (`recreate_default`), never a base that is gone."""

    interpreter = Text()

    def clean(self) -> dict[str, Any]:
        _requirements_inside_roots(self.env)
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
            _requirements_inside_roots(self.env)
            if not self.env.requirements_source:
                lacking = "to sync with" if purpose == "sync" else "naming what to upgrade"
                raise ValidationError(f"this environment has no requirements file {lacking}")
        elif purpose == "install":
            data["name"] = _name(data["name"])
            data["spec"] = self._required_spec(data["name"])
        elif purpose == "remove":
            name = _name(data["name"])
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


# -- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One job kind: its Form, its run function, and how its pages differ."""

    form: type[JobForm]
    run: operations.Run
    #: The kind makes a new environment (its own page), instead of running on one.
    creates: bool = False
    #: The kind moves the environment's directory aside (the operation refuses a scan root
    #: itself): the environment must lie strictly below a root.
    moves_aside: bool = False
    #: A kind that destroys or replaces something posts to this confirmation first: a
    #: page, so it holds without JavaScript and for a plain POST.
    confirm_template: str = ""
    #: Whether this POST's parameters need that confirmation (sync only when it removes).
    confirms: Callable[[Mapping[str, Any]], bool] = field(default=lambda data: True)
    #: What that confirmation shows besides the environment (choices, what is left out).
    confirm_context: Callable[[Environment], dict[str, object]] = field(default=lambda env: {})
    #: Its confirmation button is red: what it removes cannot be brought back.
    danger: bool = False
    #: What the finished job's page shows of its result (beyond the log).
    result_template: str = ""
    #: True when a job with these parameters only reads: cut short, it changed nothing.
    reads_only: Callable[[dict[str, Any]], bool] = field(default=lambda params: False)
    #: It runs the environment's own Python (pip, the dry run), so a broken one refuses it.
    needs_python: bool = True


KINDS: dict[str, Kind] = {
    Job.Kind.CREATE: Kind(
        CreateForm, operations.create, creates=True, result_template="jobs/_create_result.html"
    ),
    Job.Kind.INSTALL: Kind(InstallForm, operations.install),
    Job.Kind.UPGRADE: Kind(UpgradeForm, operations.upgrade),
    Job.Kind.UPGRADE_ALL: Kind(UpgradeAllForm, operations.upgrade_all),
    Job.Kind.UNINSTALL: Kind(
        UninstallForm,
        operations.uninstall,
        confirm_template="jobs/_confirm_uninstall.html",
        danger=True,
    ),
    Job.Kind.SYNC: Kind(
        SyncForm,
        operations.sync,
        confirm_template="jobs/_confirm_sync.html",
        confirms=lambda data: data.get("remove_untracked") == "1",
        danger=True,
    ),
    Job.Kind.FREEZE: Kind(
        FreezeForm,
        operations.freeze,
        result_template="jobs/_freeze_result.html",
        reads_only=lambda params: not params.get("write"),
    ),
    Job.Kind.RECREATE: Kind(
        RecreateForm,
        operations.recreate,
        confirm_template="jobs/_confirm_recreate.html",
        confirm_context=recreate_choices,
        moves_aside=True,
        needs_python=False,
    ),
    Job.Kind.DELETE: Kind(
        DeleteForm,
        operations.delete,
        confirm_template="jobs/_confirm_delete.html",
        danger=True,
        moves_aside=True,
        needs_python=False,
    ),
    Job.Kind.PLAN: Kind(PlanForm, operations.plan, reads_only=lambda params: True),
    Job.Kind.APPLY: Kind(ApplyForm, operations.apply),
}


def validate(kind: str, env: Environment, data: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a `kind` job on `env`, or JobError with the one-line refusal
    (JobStateError when it is the environment's state that refuses, not the input)."""
    if env.gone_at is not None:
        raise JobStateError(f"{env.path} is gone from disk; rescan or recreate it elsewhere")
    spec = KINDS.get(kind)
    strictly = spec is not None and spec.moves_aside
    refusal = roots_refusal(env.path, scan_plan().roots, strictly=strictly)
    if refusal:
        raise JobError(f"{env.path} {refusal}")
    if spec is None or spec.creates:
        raise JobError(f"unknown job kind {kind!r}")
    if spec.needs_python and env.health == "broken":
        # The page offers no such button on a broken environment; a crafted POST (or an API
        # call) is refused here rather than failing in the worker.
        raise JobStateError(
            f"{env.path} is broken ({env.broken_reason or 'its Python cannot run'}); "
            "recreate it first"
        )
    return _params(spec.form(data, env))


def validate_create(data: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a job making a new environment, or JobError."""
    return _params(CreateForm(data))


def _params(form: JobForm) -> dict[str, Any]:
    if not form.is_valid():
        raise JobError(form.first_error())
    return form.params()
