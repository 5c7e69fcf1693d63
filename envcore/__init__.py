"""envcore: find, inspect and change Python environments, without Django.

The public API is these modules (each has its own `__all__`); modules whose names start with
an underscore are private:

- `envcore.discover`: find every environment under a set of roots (`discover`).
- `envcore.environment`: one environment's facts read from disk (`inspect_environment`).
- `envcore.distributions`: what is installed in it (`read_inventory`).
- `envcore.requirements`: requirements files and pyproject.toml, read as pip reads them.
- `envcore.drift`: installed versus required (`drift_for_environment`).
- `envcore.pipcompat`: `pip list` / `pip freeze` / `pip check`, computed in-process.
- `envcore.tree`, `envcore.treelines`: why each package is installed (pipdeptree's tree and
  its reverse), and that tree as pipdeptree's lines.
- `envcore.index`, `envcore.outdated`, `envcore.pipconfig`: what the indexes offer, what
  could be upgraded, and the index settings pip would use.
- `envcore.interpreters`: the trusted interpreters an environment can be built with.
- `envcore.ops`: every change to an environment (create, install, sync, freeze, recreate,
  delete, ...) through one `ops.Context`.
- `envcore.runner`: running pip / uv / venv as killable process groups.
- `envcore.snapshot`: the machine snapshot a team shares.
- `envcore.versions`, `envcore.errors`: version comparisons; `EnvcoreError` and its kinds.
- `envcore.text`: words shown to people (`counted`: "1 change", "3 changes").

`import envcore` imports none of them (`python -m envcore` imports only what its
subcommand needs); `envcore.ops` and the others are imported on first attribute access.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "discover",
    "distributions",
    "drift",
    "environment",
    "errors",
    "index",
    "interpreters",
    "ops",
    "outdated",
    "pipcompat",
    "pipconfig",
    "requirements",
    "runner",
    "snapshot",
    "text",
    "tree",
    "treelines",
    "versions",
]


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name here

    def __getattr__(name: str) -> ModuleType:
        # Lazy: `envcore.ops` works after a bare `import envcore` without making that
        # import load every module (the command line's start-up time depends on it).
        if name in __all__ and name != "__version__":
            return importlib.import_module(f"envcore.{name}")
        raise AttributeError(f"module 'envcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
