"""The package indexes envdash uses for an environment: the user's pip configuration, with
the ENVDASH_ index settings over it. Update checks and jobs read them from here, so both
see the same indexes."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from envcore.pipconfig import IndexConfig, read_pip_config

__all__ = ["envdash_overrides", "index_config"]


def envdash_overrides() -> bool:
    """Whether any ENVDASH_ index setting is set (else the installers read pip's own)."""
    return bool(settings.INDEX_URL or settings.INDEX_FIND_LINKS or settings.INDEX_NO_INDEX)


def index_config(env_path: Path) -> IndexConfig:
    """pip's configuration as it applies inside `env_path`, with ENVDASH_ settings over it."""
    return read_pip_config(os.environ, site_prefix=env_path).with_overrides(
        index_url=str(settings.INDEX_URL) or None,
        find_links=list(settings.INDEX_FIND_LINKS) or None,
        no_index=True if settings.INDEX_NO_INDEX else None,
    )
