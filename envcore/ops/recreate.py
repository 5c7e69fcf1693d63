"""Recreate an environment in place without ever losing it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envcore.distributions import Inventory, read_inventory
from envcore.environment import Environment, inspect_environment
from envcore.errors import CommandFailedError, NotAnEnvironmentError
from envcore.interpreters import Interpreter, base_interpreter, list_interpreters, trusted_base
from envcore.ops.context import Context
from envcore.ops.installers import create_argv, env_has_pip
from envcore.ops.journal import Journal, JournalEntry
from envcore.ops.safety import (
    checked_requirements,
    confirmed_environment,
    exclusive_lock,
    inside_roots,
    move_aside,
    remove_tree,
    write_new_file,
)
from envcore.ops.session import (
    OperationResult,
    Session,
    interpreter_path,
    snapshot,
    work_dir,
)
from envcore.ops.targets import fill_arguments, pip_reads, requirements_for
from envcore.pipcompat import check, skipped_note

if TYPE_CHECKING:
    from envcore.requirements.source import SourceChoice

#: The pins a recreate installs from, kept inside the backup while it runs.
PINS_NAME = ".envdash-recreate-requirements.txt"


def _freeze_for_recreate(inventory: Inventory) -> tuple[str, tuple[str, ...]]:
    """Pins that rebuild exactly this set: editables as `-e <their directory>`, direct URLs
    as themselves, the rest `name==version` -- pip, setuptools and wheel included, at the
    versions the old environment had, since `uv venv` seeds none of them and `venv` seeds
    the interpreter's bundled versions.

    Also what was left out: a distribution whose metadata is not plainly valid is never
    written where pip reads it (`skipped <name>: <reason>`, see `pipcompat.unsafe_reason`).
    """
    own = set(inventory.environment.site_packages)  # not the base's, with system site-packages
    lines = []
    skipped = []
    for dist in sorted(inventory.distributions, key=lambda d: d.canonical_name):
        if dist.location not in own:
            continue
        note = skipped_note(dist)
        if note:
            skipped.append(note)
        elif dist.editable_location is not None:
            lines.append(f"-e {dist.editable_location}")
        elif dist.direct_url is not None:
            lines.append(dist.direct_url.as_requirement(dist.name))
        elif dist.parsed_version is not None:
            lines.append(f"{dist.name}=={dist.parsed_version}")
        else:
            lines.append(f"{dist.name}==={dist.version}")
    return "".join(f"{line}\n" for line in lines), tuple(skipped)


def _same_base(env: Environment, trusted: Iterable[Interpreter | Path | str] | None) -> Path:
    """The trusted interpreter the environment was made from, or a one-line refusal."""
    named = base_interpreter(env)
    if named is None:
        raise NotAnEnvironmentError(
            f"the base interpreter of {env.path} is gone; choose another interpreter to recreate it"
        )
    candidates = list_interpreters() if trusted is None else trusted
    paths = [item.path if isinstance(item, Interpreter) else Path(item) for item in candidates]
    found = trusted_base(named, paths)
    if found is None:
        raise NotAnEnvironmentError(
            f"the base interpreter of {env.path} ({named}) is not one of the trusted "
            "interpreters; choose one to recreate it, or add it in Settings"
        )
    return interpreter_path(found)


def _verify(env_path: Path, session: Session, before_problems: set[str]) -> None:
    env = inspect_environment(env_path)
    if env.broken:
        raise CommandFailedError(f"the new environment is broken: {env.broken_reason}")
    session.run([str(env.interpreter), "-I", "-c", "import site, sys"], "checking the interpreter")
    problems = {str(problem) for problem in check(read_inventory(env))} - before_problems
    if problems:
        raise CommandFailedError(f"the new environment has problems: {sorted(problems)[0]}")


def _filled_from(
    env: Environment, requirements: Path | SourceChoice | None, roots: Sequence[Path | str] | None
) -> tuple[Path | None, tuple[list[str], list[str]] | None, bool]:
    """What the new environment is filled from: (the source, the specs and editables read
    from it, whether it is a lock). A requirements file pip reads itself is handed to it as
    `-r` (no specs); any other source (a lock, a Pipfile, pyproject.toml, a tox env's deps)
    is read as a sync reads it, with the same refusals (outside the roots, a lock out of
    date), and its entries are passed: pip cannot read those files. (None, None, False):
    the old environment's own freeze."""
    if requirements is None:
        return None, None, False
    from envcore.locks import is_lock_file
    from envcore.requirements.source import SourceChoice

    path = requirements.path if isinstance(requirements, SourceChoice) else Path(requirements)
    plain = not isinstance(requirements, SourceChoice) or requirements.kind == "requirements"
    if path is not None and plain and pip_reads(path):
        return path, None, False
    source, parsed, _ = requirements_for(env, requirements, roots)
    return source, fill_arguments(env, parsed), is_lock_file(source)


def recreate(
    env_path: Path | str,
    interpreter: Interpreter | Path | str | None = None,
    *,
    requirements: Path | SourceChoice | None = None,
    trusted: Iterable[Interpreter | Path | str] | None = None,
    context: Context | None = None,
) -> OperationResult:
    """Rebuild an environment in place, with the same or another interpreter.

    Freeze, move the old directory aside (the backup), build and fill the new one at the
    same path, verify it, then drop the backup. On any failure or cancel the new directory
    is removed and the backup renamed back, so the old environment is never lost. Without
    `requirements` the environment's own pins are used (installed with --no-deps, an exact
    copy); editable installs are reinstalled editable from their directories. A
    requirements file is given to pip as `-r`; a lock is installed as its pins (without
    dependencies: the lock is the whole closure, as its tool installs it), and the other
    sources (`SourceChoice`: a Pipfile, pyproject.toml, a tox env's deps) as their specs.

    The backup is recorded in the context's journal before the rename, so
    `recover_interrupted` can put it back after a crash. With the default `MemoryJournal` a
    crash leaves the old environment beside the path as
    `.NAME.envdash-backup-<time>-<nonce>`, untouched, for the user to rename back.

    Without `interpreter`, the environment's base is used only if it is one of the
    `trusted` interpreters (default: `list_interpreters()`): pyvenv.cfg's `home` is text
    on disk, and what it names is never run just because it names it.
    """
    context = context or Context()
    journal = context.journal
    path = Path(env_path).absolute()
    if context.roots is not None:
        inside_roots(path, context.roots)
    env = confirmed_environment(path)
    source, filling, locked = _filled_from(env, requirements, context.roots)
    cwd = work_dir(path, source)
    checked_requirements(source if filling is None else None, context.roots, base_dir=cwd)
    base = interpreter_path(interpreter) if interpreter is not None else _same_base(env, trusted)
    session = Session(context, cwd, prefix=path)
    inventory = read_inventory(env)
    before = snapshot(env)
    before_problems = {str(problem) for problem in check(inventory)}
    freeze_text, skipped = _freeze_for_recreate(inventory)
    if source is None and session.log.on_line is not None:
        for note in skipped:  # reported before anything changes; the result lists them too
            session.log.on_line("stderr", note)
    had_pip = env_has_pip(env.site_packages)
    prompt = (env.prompt or "").strip("'\"") or None
    if prompt == path.name:
        prompt = None
    session.check_cancel()
    with exclusive_lock(path):
        moved = move_aside("recreate", path, journal)
        backup = moved.moved
        try:
            session.run(
                create_argv(
                    session.backend,
                    base,
                    path,
                    system_site_packages=env.include_system_site_packages,
                    prompt=prompt,
                    with_pip=had_pip,
                ),
                "creating the new environment",
            )
            commands = session.commands(inspect_environment(path))
            if filling is not None:
                specs, editables = filling
                argv = commands.install(specs, editables=editables, no_deps=locked)
            elif source is not None:
                argv = commands.install(requirement_files=[source.absolute()])
            else:
                pins = backup / PINS_NAME
                pins.unlink(missing_ok=True)  # whatever was planted there, a link included
                write_new_file(pins, freeze_text)
                argv = commands.install(requirement_files=[pins], no_deps=True)
            if (source is not None and filling != ([], [])) or freeze_text:
                session.run(argv, "installing into the new environment")
            _verify(path, session, before_problems)
            session.check_cancel()
        except BaseException:
            try:
                restore_backup(moved, journal)
            except OSError as exc:
                raise CommandFailedError(
                    f"cannot put the old environment back ({exc.strerror}): it is kept at "
                    f"{backup}; rename it to {path.name} by hand"
                ) from exc
            journal.forget(moved)
            raise
        # Committed: renamed to trash while still locked, so a crash from here on makes
        # recovery finish the deletion instead of restoring the old environment.
        old = move_aside("delete", backup, journal)
        journal.forget(moved)
    shutil.rmtree(old.moved, ignore_errors=True)
    if not os.path.lexists(old.moved):  # else recovery tries again, and says so
        journal.forget(old)
    after = snapshot(inspect_environment(path))
    return session.result("recreate", path, before, after, freeze_text=freeze_text)


def restore_backup(moved: JournalEntry, journal: Journal) -> None:
    """Put a recreate's backup (`moved.moved`) back at its path: whatever the recreate
    built there is removed (through a trash name recorded in `journal`), the pins file it
    wrote into the backup dropped, and the backup renamed back. Used when a recreate fails,
    and by recovery after a crash (which checks first that both are environments)."""
    path, backup = moved.original, moved.moved
    if os.path.lexists(path):
        remove_tree(path, journal)
    (backup / PINS_NAME).unlink(missing_ok=True)
    os.rename(backup, path)
