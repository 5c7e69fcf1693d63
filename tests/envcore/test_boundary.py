"""envcore is framework-free: importing every one of its modules must not load Django."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import importlib, json, pkgutil, sys
import envcore
names = [m.name for m in pkgutil.walk_packages(envcore.__path__, "envcore.")
         if m.name != "envcore.__main__"]
for name in names:
    importlib.import_module(name)
django = sorted(m for m in sys.modules if m.split(".")[0] == "django")
print(json.dumps({"modules": names, "django": django}))
"""


def test_envcore_never_imports_django() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert "envcore.environment" in report["modules"] and "envcore.discover" in report["modules"]
    assert report["django"] == []
