"""The team app's settings, read through Django settings with environment-variable fallbacks."""

from __future__ import annotations

from django.conf import settings

from dashboard.envvars import env_int

__all__ = [
    "max_request_body_bytes",
    "max_snapshot_bytes",
    "stale_days",
    "team_token",
    "team_url",
]

DEFAULT_MAX_SNAPSHOT_BYTES = 5 * 1024 * 1024
#: Room for a multipart envelope around an uploaded snapshot of the maximum size.
_BODY_OVERHEAD = 64 * 1024


def max_snapshot_bytes() -> int:
    """Largest snapshot body accepted (ENVDASH_TEAM_MAX_SNAPSHOT_BYTES, default 5 MB)."""
    configured = getattr(settings, "TEAM_MAX_SNAPSHOT_BYTES", None)
    if isinstance(configured, int):
        return configured
    return env_int(
        "ENVDASH_TEAM_MAX_SNAPSHOT_BYTES", DEFAULT_MAX_SNAPSHOT_BYTES, low=1024, high=1 << 30
    )


def max_request_body_bytes() -> int:
    """The largest request body the web server reads at all (waitress refuses bigger ones).

    The snapshot is the largest thing anyone posts; without this bound waitress buffers up
    to 1 GB of an unauthenticated body before the view gets a chance to refuse it.
    """
    return max_snapshot_bytes() + _BODY_OVERHEAD


def stale_days() -> int:
    return int(getattr(settings, "TEAM_STALE_DAYS", 7))


def team_url() -> str:
    return str(getattr(settings, "TEAM_URL", ""))


def team_token() -> str:
    return str(getattr(settings, "TEAM_TOKEN", ""))
