"""envcore.pipconfig against pip's own option parser: for each configuration (files,
sections, PIP_* variables) the settings we read are those `pip install` itself ends up with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.errors import PipConfigError
from envcore.pipconfig import InstallConfig, read_install_config

#: Asks the real pip what `pip install` took from its configuration (run in a child, so
#: pip reads exactly the files and variables given, as it does when envdash runs it).
_PIP_ORACLE = """
import json
from pip._internal.commands import create_command
options = create_command("install").parser.get_default_values()
fc = options.format_control
print(json.dumps({
    "index_url": options.index_url,
    "extra_index_urls": options.extra_index_urls,
    "find_links": options.find_links,
    "trusted_hosts": options.trusted_hosts,
    "no_index": options.no_index,
    "constraints": options.constraints,
    "build_constraints": options.build_constraints,
    "pre": options.pre,
    "no_binary": sorted(fc.no_binary),
    "only_binary": sorted(fc.only_binary),
    "no_deps": options.ignore_dependencies,
    "require_hashes": options.require_hashes,
    "build_isolation": bool(options.build_isolation),
    "keyring_provider": options.keyring_provider,
    "upgrade_strategy": options.upgrade_strategy,
    "prefer_binary": options.prefer_binary,
}))
"""


def _isolated(tmp_path: Path, config: Path, variables: dict[str, str]) -> dict[str, str]:
    """Only this test's configuration: no machine-wide (/etc/xdg/pip) or user file."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environ |= {
        "PIP_CONFIG_FILE": str(config),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-dirs"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "HOME": str(tmp_path / "home"),
        **variables,
    }
    return environ


def _pip_reads(environ: dict[str, str]) -> dict[str, object]:
    child = subprocess.run(
        [sys.executable, "-c", _PIP_ORACLE],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(child.stdout)
    return result


def _ours(config: InstallConfig) -> dict[str, object]:
    return {
        "index_url": config.index.index_url,
        "extra_index_urls": list(config.index.extra_index_urls),
        "find_links": list(config.index.find_links),
        "trusted_hosts": list(config.index.trusted_hosts),
        "no_index": config.index.no_index,
        "constraints": list(config.constraints),
        "build_constraints": list(config.build_constraints),
        "pre": config.pre,
        "no_binary": sorted(config.no_binary),
        "only_binary": sorted(config.only_binary),
        "no_deps": config.no_deps,
        "require_hashes": config.require_hashes,
        "build_isolation": config.build_isolation,
        "keyring_provider": config.keyring_provider or "auto",
        "upgrade_strategy": config.upgrade_strategy or "only-if-needed",
        "prefer_binary": "prefer-binary" in config.others,
    }


CASES: list[tuple[str, str, dict[str, str]]] = [
    ("nothing", "", {}),
    (
        "two indexes and a constraint in [global]",
        "[global]\nindex-url = http://a.example/simple\n"
        "extra-index-url = http://b.example/simple\n  http://c.example/simple\n"
        "constraint = /tmp/c1.txt /tmp/c2.txt\ntrusted-host = b.example\n",
        {},
    ),
    (
        "[install] replaces [global], a variable replaces both",
        "[global]\nextra-index-url = http://g.example/simple\nconstraint = /g.txt\n"
        "[install]\nextra-index-url = http://i.example/simple\n",
        {"PIP_CONSTRAINT": "/env.txt", "PIP_FIND_LINKS": "/wheels /more"},
    ),
    (
        "[freeze] and unknown keys are not install's",
        "[freeze]\nindex-url = http://f.example/simple\n[install]\nfrobnicate = yes\n",
        {},
    ),
    (
        "flags, aliases and pip's inverted no-build-isolation",
        "[install]\npre = yes\nno-dependencies = true\nrequire-hashes = on\n"
        "no-build-isolation = no\npypi-url = http://alias.example/simple\n",
        {},
    ),
    ("a variable turns a flag off again", "[install]\npre = yes\n", {"PIP_PRE": "0"}),
    (
        "format control applied in pip's order",
        "[global]\nno-binary = :all:\n[install]\nonly-binary = Foo_Bar,baz\n",
        {"PIP_NO_BINARY": ":none:,baz"},
    ),
    (
        "only-binary everywhere, then a name back to source",
        "[install]\nonly-binary = :all:\nno-binary = qux\n",
        {},
    ),
    (
        "keyring, upgrade strategy, prefer-binary",
        "[install]\nkeyring-provider = subprocess\nupgrade-strategy = eager\nprefer-binary = 1\n",
        {},
    ),
    ("no-index from a variable", "", {"PIP_NO_INDEX": "yes", "PIP_INDEX_URL": ""}),
]


@pytest.mark.parametrize(
    ("text", "variables"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_settings_are_those_pip_itself_reads(
    text: str, variables: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(text)
    environ = _isolated(tmp_path, config, variables)
    assert _ours(read_install_config(environ)) == _pip_reads(environ)


def test_the_sites_own_file_and_the_origin_of_each_setting(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.mkdir()
    (env / "pip.conf").write_text("[install]\nno-binary = :all:\n")
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nconstraint = /c.txt\n")
    environ = _isolated(tmp_path, config, {"PIP_PRE": "1"})
    read = read_install_config(environ, site_prefix=env)
    assert read.no_binary == {":all:"} and read.constraints == ("/c.txt",) and read.pre
    assert read.origin("no-binary") == f"{env / 'pip.conf'} [install]"
    assert read.origin("constraint") == f"{config} [global]"
    assert read.origin("pre") == "PIP_PRE"
    # PIP_CONFIG_FILE=os.devnull: no file at all, as in pip.
    assert read_install_config({**environ, "PIP_CONFIG_FILE": os.devnull}, site_prefix=env) == (
        InstallConfig(pre=True, origins=(("pre", "PIP_PRE"),))
    )


@pytest.mark.parametrize(
    ("text", "variables"),
    [("[install]\npre = maybe\n", {}), ("", {"PIP_NO_DEPS": "sometimes"})],
)
def test_a_flag_that_is_not_a_boolean_is_refused_in_one_line(
    text: str, variables: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(text)
    with pytest.raises(PipConfigError, match="must be yes/no") as caught:
        read_install_config(_isolated(tmp_path, config, variables))
    assert "\n" not in str(caught.value)
