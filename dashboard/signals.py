"""What the core app announces to its sub-apps (team, jobs), which connect in their ready().

The core app never imports its sub-apps: a step that belongs to one of them (push the team
snapshot, refresh the interpreter list, skip a recreate's backup) hangs on a signal here.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["busy_environments", "changes_followed", "moved_aside", "scan_finished"]

#: Sent by the scan task after a whole-tree scan finished (not after a failed one, nor a
#: one-environment rescan); keyword `scan`: the Scan row.
scan_finished = Signal()

#: Sent by a whole-tree scan before it lists environments; keyword `machine`: this machine's
#: name. Each receiver returns the paths of directories envdash moved aside on it (a
#: running recreate's backup): the old environment, not another one.
moved_aside = Signal()

#: Sent by the watcher before it rescans environments it saw change; keyword `machine`.
#: Each receiver returns the paths of environments a job of envdash is changing on it
#: right now: the job rescans its environment at its end, the watcher leaves it alone.
busy_environments = Signal()

#: Sent by the watcher once the changes it followed (one-environment rescans that changed
#: something) have settled for a while: at most one per quiet spell, never one per file
#: event (the team app pushes the snapshot). Keyword `changed`: how many rescans.
changes_followed = Signal()
