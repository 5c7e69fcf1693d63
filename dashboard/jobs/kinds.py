"""Job kinds: what each kind accepts from the user and what it runs.

Validation turns form fields into job parameters, refusing anything that is not plainly
valid with a one-line message; `run` hands the parameters to envcore.ops.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from packaging.version import InvalidVersion, Version

from dashboard.jobs.journal import DatabaseJournal
from dashboard.jobs.models import Interpreter, Job
from dashboard.models import Distribution, DriftItem, Environment
from dashboard.scanning import is_inside_roots, scan_plan
from dashboard.text import has_control_characters
from envcore import ops
from envcore.errors import EnvcoreError, InvalidSpecError, PathNotAllowedError
from envcore.interpreters import trusted_base
from envcore.pipconfig import read_pip_config

__all__ = ["JobError", "run", "validate", "validate_create"]


class JobError(ValueError):
    """Input a job cannot accept; the message is shown to the user as is."""


def _name(text: str) -> str:
    try:
        return ops.project_name(text)
    except InvalidSpecError as exc:
        raise JobError(str(exc)) from exc


def validate_create(form: dict[str, str]) -> dict[str, Any]:
    """A new environment: a path inside the scan roots and a known interpreter."""
    raw = form.get("path", "").strip()
    if has_control_characters(raw):
        # A newline or NUL in a path breaks snapshots, logs and os calls alike.
        raise JobError("the path must be one line without control characters")
    path = Path(raw).expanduser()
    if not raw or not path.is_absolute():
        raise JobError("give the new environment's absolute path, e.g. /home/me/app/.venv")
    if not is_inside_roots(path):
        raise JobError(f"{path} is outside the scan roots (see Settings)")
    interpreter = Interpreter.objects.filter(pk=form.get("interpreter") or 0).first()
    if interpreter is None:
        raise JobError("choose one of the interpreters found on this machine")
    prompt = form.get("prompt", "").strip()
    if len(prompt) > 60 or any(ch in prompt for ch in "\n\r\0"):
        raise JobError("the prompt must be one short line")
    requirements = _requirements_file(form.get("requirements", "").strip())
    return {
        "path": str(path),
        "interpreter": interpreter.path,
        "system_site_packages": form.get("system_site_packages") == "1",
        "prompt": prompt,
        "requirements": requirements,
        "what": f"{path.parent.name}/{path.name} with Python {interpreter.version}",
    }


def _requirements_file(raw: str) -> str:
    """A regular file inside the scan roots (after symlinks), or "" for none.

    pip prints what it cannot parse, so any readable file named here would reach the
    job log: /etc/shadow, or a link inside a root that points out of it, is refused.
    """
    if not raw:
        return ""
    if has_control_characters(raw):
        raise JobError("the requirements path must be one line without control characters")
    if not Path(raw).is_absolute():
        raise JobError("the requirements file must be an absolute path")
    try:
        real = ops.inside_roots(Path(raw), scan_plan().roots)
    except PathNotAllowedError as exc:
        raise JobError(
            f"the requirements file {raw} is outside the scan roots (see Settings)"
        ) from exc
    if not real.is_file():
        raise JobError(f"the requirements file {raw} is not a regular file")
    return str(real)


def _recreate_interpreter(env: Environment, chosen: str) -> Interpreter:
    """The chosen interpreter, or else the trusted one that is the environment's base."""
    if chosen:
        interpreter = Interpreter.objects.filter(pk=chosen).first() if chosen.isdigit() else None
        if interpreter is None:
            raise JobError("choose one of the interpreters found on this machine")
        return interpreter
    listed = {row.path: row for row in Interpreter.objects.all()}
    same = trusted_base(env.base_interpreter, listed)
    if same is None:
        base = env.base_interpreter or "unknown"
        raise JobError(
            f"the interpreter this environment was made with ({base}) is not one of the "
            "interpreters found on this machine: choose one, or add it in Settings"
        )
    return listed[str(same)]


def validate(kind: str, env: Environment, form: dict[str, str]) -> dict[str, Any]:
    """Turn form fields into job parameters, refusing anything that is not plainly valid."""
    if env.gone_at is not None:
        raise JobError(f"{env.path} is gone from disk; rescan or recreate it elsewhere")
    if not is_inside_roots(env.path):
        raise JobError(f"{env.path} is outside the scan roots")
    if kind == "install":
        specs = [line.strip() for line in form.get("specs", "").replace(",", "\n").splitlines()]
        specs = [spec for spec in specs if spec]
        if not specs:
            raise JobError("give at least one package spec, e.g. requests>=2.32")
        try:
            parsed = [str(ops.parse_user_spec(spec)) for spec in specs[:50]]
        except InvalidSpecError as exc:
            raise JobError(str(exc)) from exc
        return {"specs": parsed, "what": ", ".join(parsed)[:200]}
    if kind == "upgrade":
        name = _name(form.get("name", ""))
        target = form.get("version", "").strip() or form.get("target", "").strip() or "allowed"
        if target not in {"allowed", "latest"}:
            try:
                target = str(Version(target))
            except InvalidVersion as exc:
                raise JobError(f"{target!r} is not a version number") from exc
        item = DriftItem.objects.filter(environment=env, name__iexact=name).first()
        specifier = (
            item.required if item and item.required.startswith(("=", "<", ">", "!", "~")) else ""
        )
        return {
            "name": name,
            "target": target,
            "specifier": specifier,
            "what": f"{name} to {target}",
        }
    if kind == "upgrade-all":
        specs = [
            f"{dist.name}=={dist.latest_allowed}"
            for dist in Distribution.objects.filter(environment=env).exclude(latest_allowed="")
            if _newer(dist.latest_allowed, dist.version)
        ]
        if not specs:
            raise JobError("nothing to upgrade within the requirements (check for updates first)")
        return {"specs": specs, "what": f"{len(specs)} package(s) within the requirements"}
    if kind == "uninstall":
        name = _name(form.get("name", ""))
        return {"name": name, "what": name}
    if kind in {"sync", "recreate"} and env.requirements_source:
        _requirements_inside_roots(env.requirements_source)
    if kind == "sync":
        if not env.requirements_source:
            raise JobError("this environment has no requirements file to sync with")
        remove = form.get("remove_untracked") == "1"
        return {"remove_untracked": remove, "what": "with " + Path(env.requirements_source).name}
    if kind == "freeze":
        mode = form.get("mode", "plain")
        if mode not in {"plain", "update"}:
            raise JobError("freeze mode is plain or update")
        target = env.requirements_source if mode == "update" else ""
        if mode == "update" and (not target or not target.endswith(".txt")):
            raise JobError("update mode needs a requirements .txt file to update")
        if not target:
            project = Path(env.project.path) if env.project else Path(env.path).parent
            target = str(project / "requirements.txt")
        write = form.get("write") == "1"
        expected = form.get("expected", "")
        what = f"{'write' if write else 'preview'} {Path(target).name} ({mode})"
        return {"mode": mode, "target": target, "write": write, "expected": expected, "what": what}
    if kind == "recreate":
        interpreter = _recreate_interpreter(env, form.get("interpreter", ""))
        return {
            "interpreter": interpreter.path,
            "what": f"{env.name} with Python {interpreter.version}",
        }
    if kind == "delete":
        return {"force": form.get("force") == "1", "what": env.name}
    raise JobError(f"unknown job kind {kind!r}")


def _requirements_inside_roots(source: str) -> None:
    """Refuse now what the job would refuse when it runs: a requirements file leading out of
    the scan roots, which pip would read (the job checks again: the file may change)."""
    try:
        ops.requirements_inside_roots(Path(source), scan_plan().roots)
    except PathNotAllowedError as exc:
        raise JobError(str(exc)) from exc
    except EnvcoreError:
        pass  # unreadable now: the job reports why when it runs


def _newer(candidate: str, installed: str) -> bool:
    try:
        return Version(candidate) > Version(installed)
    except InvalidVersion:
        return False


def run(job: Job, log: ops.Log) -> tuple[str, dict[str, Any]]:
    """Run the envcore operation; return (one-line summary, result data)."""
    params = job.params
    path = job.env_path
    installer = str(settings.INSTALLER)
    roots = list(scan_plan().roots)
    index = _index(path)
    env = job.environment
    if job.kind == "create":
        result = ops.create(
            params["path"],
            params["interpreter"],
            system_site_packages=params["system_site_packages"],
            prompt=params["prompt"] or None,
            requirements=Path(params["requirements"]) if params["requirements"] else None,
            installer=installer,
            index=index,
            roots=roots,
            log=log,
        )
    elif job.kind in {"install", "upgrade-all"}:
        result = ops.install(path, params["specs"], installer=installer, index=index, log=log)
    elif job.kind == "upgrade":
        result = ops.upgrade(
            path,
            params["name"],
            params["target"],
            specifier=params.get("specifier") or None,
            installer=installer,
            index=index,
            log=log,
        )
    elif job.kind == "uninstall":
        result = ops.uninstall(path, [params["name"]], installer=installer, log=log)
    elif job.kind == "sync":
        source = Path(env.requirements_source) if env and env.requirements_source else None
        result = ops.sync(
            path,
            source,
            remove_untracked=params["remove_untracked"],
            installer=installer,
            index=index,
            roots=roots,
            log=log,
        )
    elif job.kind == "freeze":
        plan = ops.plan_freeze(path, params["target"], params["mode"], roots=roots)
        digest = hashlib.sha256((plan.old_text or "").encode()).hexdigest()
        data = {
            "diff": plan.diff,
            "target": str(plan.path),
            "expected": digest,
            "changed": plan.changed,
            "notes": list(plan.notes),
        }
        if not params["write"]:
            return ("no change" if not plan.changed else "preview ready: review the diff"), data
        if params.get("expected") and params["expected"] != digest:
            raise EnvcoreError(f"{plan.path} changed since the preview; preview again")
        backup = ops.write_freeze(plan, roots=roots)
        data["backup"] = str(backup) if backup else ""
        return f"wrote {plan.path}" + (f" (backup {backup.name})" if backup else ""), data
    elif job.kind == "recreate":
        source = Path(env.requirements_source) if env and env.requirements_source else None
        result = ops.recreate(
            path,
            params.get("interpreter") or None,
            requirements=source,
            installer=installer,
            index=index,
            roots=roots,
            log=log,
            journal=DatabaseJournal(job.pk),
            # Only a job queued without a chosen interpreter needs the trusted list.
            trusted=None
            if params.get("interpreter")
            else list(Interpreter.objects.values_list("path", flat=True)),
        )
    elif job.kind == "delete":
        deleted = ops.delete(
            path, roots=roots, force=params["force"], journal=DatabaseJournal(job.pk)
        )
        return f"deleted {deleted.path}", {}
    else:
        raise EnvcoreError(f"unknown job kind {job.kind}")
    changes = list(result.changes)
    summary = "; ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
    return summary or "nothing changed", {"changes": changes}


def _index(env_path: str) -> ops.IndexOptions | None:
    """pip's own index configuration with the ENVDASH_ index settings over it, as the update
    checks see it; None when none is set, so the installers read the user's pip settings."""
    if not (settings.INDEX_URL or settings.INDEX_FIND_LINKS or settings.INDEX_NO_INDEX):
        return None
    config = read_pip_config(os.environ, site_prefix=Path(env_path)).with_overrides(
        index_url=str(settings.INDEX_URL) or None,
        find_links=list(settings.INDEX_FIND_LINKS) or None,
        no_index=True if settings.INDEX_NO_INDEX else None,
    )
    return ops.IndexOptions.from_config(config)
