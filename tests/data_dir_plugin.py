"""A data directory of the test run's own, set before pytest-django loads the settings.

Loaded with `-p` (pyproject.toml's addopts), so it runs before any conftest: the settings
create the secret key in the data directory as they load, and without this a plain
`pytest` would write it into the developer's real envdash data directory. Parallel
workers inherit the variable.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("ENVDASH_DATA_DIR", tempfile.mkdtemp(prefix="envdash-tests-"))
