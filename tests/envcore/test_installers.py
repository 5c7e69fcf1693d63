"""How the user's pip configuration reaches uv: the flags each setting becomes, the settings
that make `auto` run pip instead (and the one line saying why), and uv's own settings kept
out of its way."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envcore.ops.installers import (
    UV_NO_CONFIG,
    Commands,
    IndexOptions,
    choose_backend,
    create_argv,
    uv_options,
    uv_refusal,
)
from envcore.pipconfig import InstallConfig, read_install_config


def _environ(tmp_path: Path, text: str, **variables: str) -> dict[str, str]:
    """Only this configuration file and these PIP_* variables (no machine or user file)."""
    config = tmp_path / "pip.conf"
    config.write_text(text)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return environ | {
        "PIP_CONFIG_FILE": str(config),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-dirs"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "HOME": str(tmp_path / "home"),
        **variables,
    }


def _read(environ: dict[str, str]) -> InstallConfig:
    """The configuration of PIP_CONFIG_FILE and the variables only: not the machine's own
    /etc/pip.conf, which pip reads whatever the variables say."""
    return read_install_config(environ, config_files=())


TRANSLATED: list[tuple[str, str, list[str]]] = [
    ("nothing: pip's default index is uv's default", "", []),
    (
        "index-url",
        "[global]\nindex-url = http://main.example/simple\n",
        ["--index-url=http://main.example/simple"],
    ),
    (
        "an extra index: pip's best match across all indexes",
        "[global]\nextra-index-url = http://old.example/simple http://x.example/simple\n",
        [
            "--extra-index-url=http://old.example/simple",
            "--extra-index-url=http://x.example/simple",
            "--index-strategy=unsafe-best-match",
        ],
    ),
    (
        "no-index and find-links: no index to choose between",
        "[global]\nno-index = yes\nfind-links = /wheels\nextra-index-url = http://x.example/s\n",
        ["--no-index", "--extra-index-url=http://x.example/s", "--find-links=/wheels"],
    ),
    (
        "trusted-host",
        "[global]\ntrusted-host = h.example:8080\n",
        ["--allow-insecure-host=h.example:8080"],
    ),
    (
        "constraint and build-constraint",
        "[global]\nconstraint = /etc/c.txt\n[install]\nbuild-constraint = /b.txt\n",
        ["--constraints=/etc/c.txt", "--build-constraints=/b.txt"],
    ),
    ("pre", "[install]\npre = true\n", ["--prerelease=allow"]),
    (
        "only-binary",
        "[install]\nonly-binary = Zeta,alpha\n",
        ["--only-binary=alpha", "--only-binary=zeta"],
    ),
    ("no-binary cleared by :none:", "[global]\nno-binary = a\n[install]\nno-binary = :none:\n", []),
    ("no-deps", "[install]\nno-deps = yes\n", ["--no-deps"]),
    ("require-hashes", "[install]\nrequire-hashes = yes\n", ["--require-hashes"]),
    (
        "pip's inverted no-build-isolation",
        "[install]\nno-build-isolation = no\n",
        ["--no-build-isolation"],
    ),
    (
        "no-build-isolation = yes keeps isolation, as in pip",
        "[install]\nno-build-isolation = yes\n",
        [],
    ),
    ("cert", "[global]\ncert = /etc/ca.pem\n", ["--cert=/etc/ca.pem"]),
    (
        "keyring subprocess",
        "[global]\nkeyring-provider = subprocess\n",
        ["--keyring-provider=subprocess"],
    ),
    (
        "upgrade-strategy only-if-needed is uv's way too",
        "[install]\nupgrade-strategy = only-if-needed\n",
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "flags"), [c[1:] for c in TRANSLATED], ids=[c[0] for c in TRANSLATED]
)
def test_each_pip_setting_becomes_the_uv_flag_of_the_same_meaning(
    text: str, flags: list[str], tmp_path: Path
) -> None:
    config = _read(_environ(tmp_path, text))
    assert uv_refusal(config) == ""
    assert uv_options(config) == flags


def test_pip_variables_reach_uv_like_the_files(tmp_path: Path) -> None:
    environ = _environ(
        tmp_path,
        "[global]\nconstraint = /file.txt\n",
        PIP_CONSTRAINT="/env.txt",
        PIP_EXTRA_INDEX_URL="http://extra.example/simple",
        PIP_PRE="1",
    )
    assert uv_options(_read(environ)) == [
        "--extra-index-url=http://extra.example/simple",
        "--index-strategy=unsafe-best-match",
        "--constraints=/env.txt",
        "--prerelease=allow",
    ]


REFUSED: list[tuple[str, str]] = [
    ("[install]\nno-binary = :all:\n", "no-binary"),
    ("[install]\nprefer-binary = yes\n", "prefer-binary"),
    ("[install]\nupgrade-strategy = eager\n", "upgrade-strategy"),
    ("[install]\nupgrade = yes\n", "upgrade"),
    ("[install]\nforce-reinstall = yes\n", "force-reinstall"),
    ("[install]\nignore-installed = yes\n", "ignore-installed"),
    ("[global]\nproxy = http://proxy.example:3128\n", "proxy"),
    ("[global]\nclient-cert = /me.pem\n", "client-cert"),
    ("[global]\nkeyring-provider = import\n", "keyring-provider"),
    ("[install]\nuploaded-prior-to = P3D\n", "uploaded-prior-to"),
    ("[install]\nrequirement = /always.txt\n", "requirement"),
    ("[install]\ntarget = /elsewhere\n", "target"),
]


@pytest.mark.parametrize(("text", "name"), REFUSED)
def test_a_setting_uv_cannot_honour_is_named_with_where_it_was_set(
    text: str, name: str, tmp_path: Path
) -> None:
    environ = _environ(tmp_path, text)
    section = text.split("]", maxsplit=1)[0] + "]"
    reason = f"uv cannot honour pip's `{name}` setting (from {tmp_path / 'pip.conf'} {section})"
    assert uv_refusal(_read(environ)) == reason
    choice = choose_backend("auto", config=_read(environ))
    assert (choice.backend, choice.uv_args) == ("pip", ())
    assert choice.describe() == f"installer: pip — {reason}"


def test_a_flag_set_to_its_default_is_nothing_to_refuse(tmp_path: Path) -> None:
    environ = _environ(tmp_path, "[install]\nprefer-binary = no\nupgrade = off\n")
    assert choose_backend("auto", config=_read(environ)).backend == "uv"


def test_the_first_setting_pip_applied_is_the_one_named(tmp_path: Path) -> None:
    environ = _environ(tmp_path, "[global]\nprefer-binary = 1\n", PIP_NO_BINARY=":all:")
    assert "`prefer-binary`" in uv_refusal(_read(environ))


def test_the_backend_choice_and_what_it_says(tmp_path: Path) -> None:
    environ = _environ(tmp_path, "[global]\nextra-index-url = http://x.example/simple\n")
    auto = choose_backend("auto", config=_read(environ))
    assert auto.backend == "uv" and auto.describe() == "installer: uv"
    assert "--index-strategy=unsafe-best-match" in auto.uv_args
    assert choose_backend("pip", config=_read(environ)).describe() == "installer: pip — chosen"
    refused = _environ(tmp_path, "[install]\nno-binary = :all:\n")
    forced = choose_backend(
        "uv", config=_read(refused)
    )  # an explicit uv runs, and says what it drops
    assert forced.backend == "uv"
    assert "uv cannot honour pip's `no-binary` setting" in forced.describe()
    assert forced.describe().endswith("so it is not applied")


def test_an_explicit_index_replaces_the_configured_one_but_not_the_rest(tmp_path: Path) -> None:
    environ = _environ(
        tmp_path, "[global]\nindex-url = http://mine.example/simple\nconstraint = /c.txt\n"
    )
    override = IndexOptions(no_index=True, find_links=("/wheels",))
    choice = choose_backend("auto", config=_read(environ), index=override)
    assert choice.uv_args == ("--no-index", "--find-links=/wheels", "--constraints=/c.txt")


def test_every_uv_command_ignores_uv_configuration_files(tmp_path: Path) -> None:
    python = tmp_path / "env" / "bin" / "python"
    commands = Commands("uv", python, own_pip=False, index=None, uv_args=("--no-deps",))
    install = commands.install(["alpha"], upgrade=["alpha"])
    assert install[1:6] == ["pip", "install", UV_NO_CONFIG, "--python", str(python)]
    assert install[6:] == ["--upgrade-package=alpha", "--no-deps", "--", "alpha"]
    assert commands.uninstall(["alpha"])[1:4] == ["pip", "uninstall", UV_NO_CONFIG]
    venv = create_argv(
        "uv", Path(sys.executable), tmp_path / "new", system_site_packages=False, prompt=None
    )
    assert venv[1:3] == ["venv", UV_NO_CONFIG]
    # pip reads its own configuration: only an explicit override is passed to it.
    pip = Commands("pip", python, own_pip=True, index=None, uv_args=("--no-deps",))
    assert "--no-deps" not in pip.install(["alpha"])


def test_no_deps_asked_for_and_configured_is_passed_once(tmp_path: Path) -> None:
    """uv refuses a repeated --no-deps: a recreate's copy (no_deps=True) in a configuration
    that already says no-deps gets it once."""
    python = tmp_path / "env" / "bin" / "python"
    commands = Commands("uv", python, own_pip=False, index=None, uv_args=("--no-deps",))
    assert commands.install(["alpha==1.0"], no_deps=True).count("--no-deps") == 1
    plain = Commands("uv", python, own_pip=False, index=None, uv_args=())
    assert plain.install(["alpha==1.0"], no_deps=True).count("--no-deps") == 1
