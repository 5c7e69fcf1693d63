"""envcore: find, inspect and change Python environments, without Django.

Modules: discover, inspect, requirements, drift, index, runner, ops; `python -m envcore`.
"""

from __future__ import annotations

__version__ = "0.1.0"
