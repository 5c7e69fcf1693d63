"""Template filters every page can use without `{% load %}` (registered as builtins)."""

from __future__ import annotations

from django import template

from dashboard.text import mark_invisible

register = template.Library()


@register.filter(is_safe=True)
def visible(value: object) -> str:
    """Control and bidi characters shown as ⟨U+202E⟩, so a name cannot pose as another.

    For anything read from disk or from a teammate's snapshot: paths, names, versions.
    The markers contain nothing HTML-special, so escaped (safe) input stays safe.
    """
    return mark_invisible(str(value))
