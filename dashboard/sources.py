"""Which file a project's environments are held to, as the user chooses it: the environment
page's chooser and `POST /api/projects/<id>/source` pass the same Form and call the same
function, so the refusal and what a choice does are one thing.

The choices are the files the last scan listed for the project (`Project.source_candidates`,
from envcore's `candidate_sources`), plus "automatic": a path sent by a client is only ever
compared with that list, never opened, so no form can point drift at another file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django import forms

from dashboard import tasks
from dashboard.models import Environment, Project
from dashboard.scandrift import automatic_source
from dashboard.scanning import scan_plan

__all__ = ["AUTOMATIC", "SourceForm", "held_to_line", "hold_project_to"]

#: The value that gives the choice back to envdash (the lock if there is one, and so on).
AUTOMATIC = ""


class SourceForm(forms.Form):
    """Hold a project's environments to one of its files, or let envdash choose."""

    source = forms.ChoiceField(required=False)

    def __init__(self, project: Project, data: Any = None) -> None:
        super().__init__(data, initial={"source": _current(project)})
        self.project = project
        field = cast("forms.ChoiceField", self.fields["source"])
        field.choices = [
            (AUTOMATIC, "automatic"),
            *((str(path), project.label_of(str(path))) for path in project.source_candidates),
        ]
        field.error_messages["invalid_choice"] = (
            "“%(value)s” is not one of this project's files: choose automatic or a file "
            "listed (rescan if the file is new)"
        )

    def refusal(self) -> str:
        """Why the choice was refused, in one line (after `is_valid()` said no)."""
        return " ".join(str(message) for message in self.errors.get("source", []))

    def chosen(self) -> str:
        """The validated choice: a path of the list, or AUTOMATIC."""
        return str(self.cleaned_data["source"] or AUTOMATIC)


def _current(project: Project) -> str:
    return project.requirements_source if project.requirements_explicit else AUTOMATIC


def hold_project_to(project: Project, source: str) -> list[Environment]:
    """Store the choice (`source` from a valid SourceForm) and queue a rescan of each of the
    project's environments on disk, which then compare with it; returns those environments.

    Going back to automatic stores what automatic chooses now (the scan's own choice, from
    the project's few candidate files), so the pages and the API never show the project
    without a source while the rescans run.
    """
    explicit = source != AUTOMATIC
    project.requirements_source = (
        source if explicit else automatic_source(Path(project.path), scan_plan().roots)
    )
    project.requirements_explicit = explicit
    project.save(update_fields=["requirements_source", "requirements_explicit", "updated_at"])
    live = list(project.environments.filter(gone_at__isnull=True))
    for env in live:
        tasks.enqueue_scan(path=env.path, force=True)
    return live


def held_to_line(project: Project) -> str:
    """What the project is held to now, for the saved message: `held to requirements.txt`,
    `chosen automatically: uv.lock`."""
    if not project.requirements_source:
        return "chosen automatically: no source found"
    label = project.label_of(project.requirements_source)
    return f"held to {label}" if project.requirements_explicit else f"chosen automatically: {label}"
