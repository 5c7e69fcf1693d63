"""envcore's top level: it names the public modules and imports none of them until used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CODE = """
import json, sys
import envcore
before = sorted(m for m in sys.modules if m.startswith("envcore."))
modules = {name: getattr(envcore, name).__name__ for name in envcore.__all__[1:]}
print(json.dumps({"before": before, "modules": modules, "dir": dir(envcore)}))
"""


def test_import_envcore_loads_no_module_and_each_public_one_on_first_use() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert report["before"] == []
    assert report["modules"]["ops"] == "envcore.ops"
    assert all(value == f"envcore.{name}" for name, value in report["modules"].items())
    assert "ops" in report["dir"] and "__version__" in report["dir"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    import envcore

    with pytest.raises(AttributeError, match="no_such_module"):
        getattr(envcore, "no_such_module")  # noqa: B009 (the name is the point)
