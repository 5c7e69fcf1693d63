"""Template filters every page can use without `{% load %}` (registered as builtins)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from dashboard.text import as_references, mark_invisible

register = template.Library()


@register.filter(is_safe=True)
def visible(value: object) -> str:
    """Control and bidi characters shown as ⟨U+202E⟩, so a name cannot pose as another.

    For anything read from disk or from a teammate's snapshot: paths, names, versions.
    The markers contain nothing HTML-special, so escaped (safe) input stays safe.
    """
    return mark_invisible(str(value))


@register.filter
def sent_back(value: object) -> SafeString:
    """An attribute value a form posts back unchanged (a path as an `<option value>`):
    escaped, its control and bidi characters as character references (see `visible` for
    text that is only shown)."""
    return mark_safe(as_references(escape(str(value))))  # noqa: S308 (escaped first)


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago: "just now" under a minute (Django's `timesince` says "0 minutes"),
    else "3 minutes ago"; a moment a little ahead (another clock) is "just now" too."""
    if value is None:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"
