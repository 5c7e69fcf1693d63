"""Queueing and running jobs: validation in, envcore.ops out, logs streamed to the database.

Rules the worker keeps:
- one job at a time per environment (others for it wait queued, in order); jobs on
  different environments run in parallel, one per worker process;
- no transaction is held while pip runs: output lines are buffered and written in small
  batches by a flusher thread, which also beats the heartbeat and watches for cancel;
- a job is safe to run twice: only a queued job is ever started.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from packaging.version import InvalidVersion, Version

from dashboard.jobs.journal import DatabaseJournal, recover_moved_directories
from dashboard.jobs.models import Interpreter, Job, JobLine
from dashboard.models import Activity, Distribution, DriftItem, Environment
from dashboard.queues import machine_queue
from dashboard.scanning import is_inside_roots, scan_environment, scan_plan
from dashboard.text import has_control_characters
from dashboard.updates import check_updates
from envcore import ops
from envcore.errors import CancelledError, EnvcoreError, InvalidSpecError, PathNotAllowedError
from envcore.interpreters import check_user_interpreter, list_interpreters, trusted_base
from envcore.pipconfig import read_pip_config
from envcore.runner import CancelToken, ProcessIdentity, end_process_tree, replaced_since

__all__ = [
    "FLUSH_SECONDS",
    "JobError",
    "add_user_interpreter",
    "enqueue",
    "enqueue_create",
    "interrupt_running",
    "queued_for",
    "reap_interrupted",
    "refresh_interpreters",
    "requeue",
    "run_job",
    "validate",
]

logger = logging.getLogger("envdash.jobs")

#: How often buffered output reaches the page and the heartbeat is renewed.
FLUSH_SECONDS = 0.3
#: A running job whose heartbeat is older than this belongs to a dead worker.
STALE_AFTER = timedelta(seconds=60)
#: How long a job waits before looking again when its environment is busy. The job ahead
#: starts the next one as it finishes; this retry only covers a worker that died in between.
RETRY_SECONDS = 15


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


def enqueue_create(form: dict[str, str]) -> Job:
    params = validate_create(form)
    job = Job.objects.create(
        kind=Job.Kind.CREATE,
        env_path=params["path"],
        machine=str(settings.MACHINE_NAME),
        params=params,
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


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


def enqueue(kind: str, env: Environment, form: dict[str, str]) -> Job:
    params = validate(kind, env, form)
    job = Job.objects.create(
        kind=kind,
        environment=env,
        env_path=env.path,
        machine=str(settings.MACHINE_NAME),
        params=params,
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


def requeue(job: Job) -> Job:
    """A new job with the same kind and parameters (the Retry button)."""
    again = Job.objects.create(
        kind=job.kind,
        environment=job.environment,
        env_path=job.env_path,
        machine=str(settings.MACHINE_NAME),
        params=job.params,
    )
    transaction.on_commit(lambda: _schedule(again.pk))
    return again


def _schedule(job_id: int, delay: float = 0) -> None:
    task_ = run_job.using(queue_name=machine_queue())
    if delay:
        task_ = task_.using(run_after=timezone.now() + timedelta(seconds=delay))
    task_.enqueue(job_id)


def _schedule_next(env_path: str) -> None:
    """Start the job waiting first for this environment now, not at its next retry."""
    waiting = (
        Job.objects.filter(env_path=env_path, state=Job.State.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        _schedule(waiting)


class _Stream:
    """Buffers output lines; a thread writes them in batches and beats the heartbeat.

    A line that ends a silence (pip's first) is written at once; the lines after it wait
    up to FLUSH_SECONDS to share one INSERT.
    """

    def __init__(self, job: Job, cancel: CancelToken) -> None:
        self.job_id = job.pk
        self.cancel = cancel
        self.pending: list[tuple[str, str, datetime]] = []
        self.seq = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"job-{job.pk}-log", daemon=True)

    def line(self, stream: str, text: str) -> None:
        with self.lock:
            self.pending.append((stream, text, timezone.now()))
        self.wake.set()

    def command(self, argv: tuple[str, ...]) -> None:
        self.line("cmd", "$ " + " ".join(argv))

    def started(self, pid: int) -> None:
        """Record the command's group leader by pid and start time, for a reaper."""
        leader = ProcessIdentity.of(pid)
        started = leader.started if leader is not None else None
        Job.objects.filter(pk=self.job_id).update(pgid=pid, leader_started=started)

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        rows = []
        for stream, text, at in batch:
            self.seq += 1
            rows.append(
                JobLine(job_id=self.job_id, seq=self.seq, stream=stream, text=text[:4000], at=at)
            )
        if rows:
            JobLine.objects.bulk_create(rows)
        Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
        if Job.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            self.cancel.cancel()

    def _loop(self) -> None:
        try:
            while not self.done.is_set():
                self.wake.wait(FLUSH_SECONDS)
                self.wake.clear()
                self.flush()
                self.done.wait(FLUSH_SECONDS)
        finally:
            connection.close()

    def __enter__(self) -> _Stream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.wake.set()
        self.thread.join()
        self.flush()


def _claim(job_id: int) -> Job | None:
    """Mark the job running if it is queued and first in line for its environment."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != Job.State.QUEUED:
            return None
        if job.cancel_requested:
            job.state, job.finished_at, job.summary = "cancelled", timezone.now(), "cancelled"
            job.save(update_fields=["state", "finished_at", "summary"])
            return None
        if job.environment_id is not None:  # serialises claims per environment (row lock)
            list(Environment.objects.select_for_update().filter(pk=job.environment_id))
        ahead = Job.objects.filter(env_path=job.env_path).filter(_running_or_earlier(job))
        if ahead.exists():
            transaction.on_commit(lambda: _schedule(job_id, RETRY_SECONDS))
            return None
        job.state = Job.State.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.worker = f"{socket.gethostname()}:{os.getpid()}"[:128]
        job.save(update_fields=["state", "started_at", "heartbeat_at", "worker"])
        return job


def _running_or_earlier(job: Job) -> Q:
    return Q(state=Job.State.RUNNING) | Q(state=Job.State.QUEUED, pk__lt=job.pk)


def _operation(job: Job, log: ops.Log) -> tuple[str, dict[str, Any]]:
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


class _Current:
    """The job this worker process runs, so a worker told to stop (serve is gone) can end
    its commands and say why instead of leaving them to a reaper."""

    lock = threading.Lock()
    cancel: CancelToken | None = None
    cause = ""


def interrupt_running(cause: str) -> None:
    """End the job this process is running, if any: its commands are killed and it is marked
    interrupted because of `cause` (e.g. "envdash serve stopped")."""
    with _Current.lock:
        _Current.cause = cause
        if _Current.cancel is not None:
            _Current.cancel.cancel()


def _interrupted(job: Job, cause: str) -> str:
    """An honest one-line summary for a job whose run was cut short."""
    doing = f"{job.get_kind_display().lower()} {job.params.get('what', '')}".strip()
    if job.kind == Job.Kind.FREEZE and not job.params.get("write"):
        effect = "nothing was changed (a preview only reads)"
    else:
        effect = "the environment may be partly changed"
    return f"interrupted: {cause} while {doing} ran; {effect}"[:1024]


@task()
def run_job(job_id: int) -> str:
    job = _claim(job_id)
    if job is None:
        return "skipped"
    cancel = CancelToken()
    with _Current.lock:
        _Current.cancel = cancel
        if _Current.cause:
            cancel.cancel()
    try:
        state = _run_claimed(job, cancel)
    finally:
        with _Current.lock:
            _Current.cancel = None
    return str(state)


def _run_claimed(job: Job, cancel: CancelToken) -> str:
    job_id = job.pk
    state, summary = Job.State.FAILED, ""
    data: dict[str, Any] = {}
    with _Stream(job, cancel) as stream:
        log = ops.Log(
            on_line=stream.line,
            on_command=stream.command,
            on_start=stream.started,
            cancel=cancel,
            timeout=float(settings.JOB_TIMEOUT),
        )
        try:
            summary, data = _operation(job, log)
            state = Job.State.SUCCEEDED
        except CancelledError as exc:
            state, summary = Job.State.CANCELLED, str(exc)
            if _Current.cause:
                state, summary = Job.State.INTERRUPTED, _interrupted(job, _Current.cause)
        except (EnvcoreError, OSError) as exc:
            summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except Exception as exc:  # a bug must still end the job with a reason
            logger.exception("job %s crashed", job_id)
            summary = f"internal error: {type(exc).__name__}: {exc}"
        stream.line("info", f"{state}: {summary}")
    Job.objects.filter(pk=job_id).update(
        state=state,
        summary=summary[:1024],
        result=data,
        finished_at=timezone.now(),
        pgid=None,
        leader_started=None,
    )
    _schedule_next(job.env_path)
    close_old_connections()
    scan_environment(job.env_path)
    refreshed = Environment.objects.filter(path=job.env_path, gone_at__isnull=True).first()
    if refreshed is not None and refreshed.updates_checked_at is not None and not _Current.cause:
        # The rescan replaced the package rows; the cache makes this re-check cheap.
        try:
            check_updates(refreshed)
        except (EnvcoreError, OSError) as exc:
            logger.warning("update check after job %s failed: %s", job_id, exc)
    Activity.objects.create(
        at=timezone.now(),
        kind="job",
        message=f"{job.title} on {Path(job.env_path).name}: {state}"[:1024],
        environment=Environment.objects.filter(path=job.env_path).first(),
    )
    return state


def reap_interrupted(
    *, recover: bool = False, now_fn: Callable[[], datetime] = timezone.now
) -> int:
    """This machine's jobs whose worker died: mark them interrupted, end their whole process
    tree, repair their environments, rescan them and start what was waiting for them.

    A worker is dead when its heartbeat is stale, or at once when it ran on this host and
    its process is gone (or a zombie). Other machines' jobs are left to their own workers:
    a process group number means nothing on another machine. `recover` (worker start)
    undoes what the journal of moved directories records even when no job was reaped.
    """
    now = now_fn()
    running = Job.objects.filter(state=Job.State.RUNNING, machine=str(settings.MACHINE_NAME))
    dead = [
        job
        for job in running
        if job.heartbeat_at is None or job.heartbeat_at < now - STALE_AFTER or _worker_gone(job)
    ]
    reaped = []
    for job in dead:
        # Several workers start together (serve): only the one whose update wins reaps.
        if not Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.INTERRUPTED,
            finished_at=now,
            summary=_interrupted(job, "the worker died"),
            pgid=None,
            leader_started=None,
        ):
            continue
        # Whatever it was doing, the command must not go on changing the environment
        # behind a job that says it ended; the rescan below then sees its final state.
        leader = job.leader
        if leader is not None:
            end_process_tree(leader)
        reaped.append(job)
    if reaped or recover:
        recover_moved_directories(now_fn)
    for env_path in {job.env_path for job in reaped}:
        scan_environment(env_path)
        _schedule_next(env_path)
    return len(reaped)


def _worker_gone(job: Job) -> bool:
    """True when the job's worker ran on this host and its process is gone: no process has
    its pid, it is a zombie nobody reaped yet, or the pid now names a younger process."""
    host, _, pid = job.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    claimed = job.started_at.timestamp() if job.started_at else float("inf")
    return replaced_since(int(pid), claimed)


def queued_for(env: Environment) -> list[Job]:
    return list(Job.objects.filter(env_path=env.path).order_by("-created_at")[:5])
