"""The pip and uv backends: which one to use, and the exact argv each operation runs.

Only argv is built here (running is the runner's job). User-given specs always come after
`--`, so neither tool can read one as an option; pip and uv both accept that.

envdash installs with the user's pip configuration. pip reads it itself; uv never does, so
`uv_options` translates it (pip.conf files and PIP_* variables, as `envcore.pipconfig` reads
them) into uv flags of the same meaning, and `choose_backend` falls back to pip, saying
why, when a setting has no uv equivalent.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from envcore.errors import CommandFailedError, InvalidSpecError
from envcore.pipconfig import PYPI_SIMPLE_URL, IndexConfig, InstallConfig, read_install_config

InstallerChoice = Literal["auto", "pip", "uv"]
Backend = Literal["pip", "uv"]
INSTALLER_CHOICES: tuple[InstallerChoice, ...] = ("auto", "pip", "uv")


@dataclass(frozen=True)
class IndexOptions:
    """Where packages come from, given explicitly (overrides the user's pip configuration)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False

    @classmethod
    def from_config(cls, config: IndexConfig) -> IndexOptions:
        return cls(
            index_url=config.index_url,
            extra_index_urls=config.extra_index_urls,
            find_links=config.find_links,
            trusted_hosts=config.trusted_hosts,
            no_index=config.no_index,
        )

    def args(self, backend: Backend) -> list[str]:
        """These settings as options of `backend`."""
        args = ["--no-index"] if self.no_index else []
        if self.index_url:
            args.append(f"--index-url={self.index_url}")
        args += [f"--extra-index-url={url}" for url in self.extra_index_urls]
        args += [f"--find-links={link}" for link in self.find_links]
        trusted = "--trusted-host" if backend == "pip" else "--allow-insecure-host"
        args += [f"{trusted}={host}" for host in self.trusted_hosts]
        return args


#: uv's own variables that change what it installs (indexes, constraints, pre-releases,
#: resolution, upload dates, build rules, its config file). They are removed from uv's
#: environment: envdash's promise is the user's *pip* configuration, translated into flags,
#: so uv must reach the result pip would, not one a stray UV_ variable picks.
UV_SETTING_VARIABLES = (
    "UV_CONFIG_FILE",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_INDEX_STRATEGY",
    "UV_KEYRING_PROVIDER",
    "UV_INSECURE_HOST",
    "UV_CONSTRAINT",
    "UV_BUILD_CONSTRAINT",
    "UV_OVERRIDE",
    "UV_EXCLUDE",
    "UV_PRERELEASE",
    "UV_RESOLUTION",
    "UV_FORK_STRATEGY",
    "UV_EXCLUDE_NEWER",
    "UV_NO_BINARY",
    "UV_NO_BINARY_PACKAGE",
    "UV_NO_BUILD",
    "UV_NO_BUILD_PACKAGE",
    "UV_NO_BUILD_ISOLATION",
    "UV_REQUIRE_HASHES",
    "UV_NO_VERIFY_HASHES",
    "UV_REQUIRE_BUILD_HASHES",
    "UV_SKIP_WHEEL_FILENAME_CHECK",
    "UV_TORCH_BACKEND",
    "UV_NO_SOURCES",
    "UV_NO_SOURCES_PACKAGE",
    "UV_OFFLINE",
)


def uv_options(config: InstallConfig, index: IndexOptions | None = None) -> list[str]:
    """uv flags meaning what `config` means to pip (its indexes replaced by `index` when
    given): the indexes, pip's best match across all of them, constraints, pre-releases,
    only-binary, no-deps, require-hashes, build isolation and the CA bundle.

    Call `uv_refusal` first: settings uv cannot honour are left out here.
    """
    if index is None:
        index = IndexOptions.from_config(config.index)
        if index.index_url == PYPI_SIMPLE_URL:
            index = replace(index, index_url=None)  # pip's default is uv's default too
    args = index.args("uv")
    if index.extra_index_urls and not index.no_index:
        # pip takes the best version any index offers; uv's default takes the first index
        # that has the project at all, which is how an extra index holding only old
        # releases made uv refuse what pip installs (issue 13).
        args.append("--index-strategy=unsafe-best-match")
    args += [f"--constraints={path}" for path in config.constraints]
    args += [f"--build-constraints={path}" for path in config.build_constraints]
    if config.pre:
        args.append("--prerelease=allow")
    args += [f"--only-binary={name}" for name in sorted(config.only_binary)]
    if config.no_deps:
        args.append("--no-deps")
    if config.require_hashes:
        args.append("--require-hashes")
    if not config.build_isolation:
        args.append("--no-build-isolation")
    if config.cert:
        args.append(f"--cert={config.cert}")
    if config.keyring_provider in {"subprocess", "disabled"}:
        args.append(f"--keyring-provider={config.keyring_provider}")
    return args


def uv_refusal(config: InstallConfig) -> str:
    """Why uv cannot install as pip would with `config` (one line naming the setting pip
    applied first, and where it was set), or "" when it can.

    no-binary: which wheels pip still accepts (those it built and cached before) and how it
    builds the build dependencies of its isolated builds is pip's own behaviour; uv's
    --no-binary is not documented to match it, and building from source is where the two
    tools differ most. `config.others` (prefer-binary, upgrade, force-reinstall, proxy,
    client-cert, uploaded-prior-to, target...) have no uv flag, or none of the same meaning;
    neither have upgrade-strategy eager and keyring-provider import.
    """
    refused: list[str] = []
    if config.no_binary:
        refused.append("no-binary")
    if config.upgrade_strategy == "eager":
        refused.append("upgrade-strategy")
    if config.keyring_provider == "import":
        refused.append("keyring-provider")
    refused += config.others
    if not refused:
        return ""
    name = min(refused, key=[key for key, _ in config.origins].index)  # the first pip applied
    origin = config.origin(name)
    return f"uv cannot honour pip's `{name}` setting" + (f" (from {origin})" if origin else "")


@dataclass(frozen=True)
class BackendChoice:
    """The installer an operation runs with, and why (the job log's first line).

    `uv_args` are the translated pip settings every `uv pip install` gets.
    """

    backend: Backend
    reason: str = ""
    uv_args: tuple[str, ...] = ()

    def describe(self) -> str:
        """`installer: pip — uv cannot honour pip's `no-binary` setting`."""
        return f"installer: {self.backend}" + (f" — {self.reason}" if self.reason else "")


def choose_backend(
    choice: InstallerChoice | str,
    *,
    prefix: Path | None = None,
    index: IndexOptions | None = None,
    config: InstallConfig | None = None,
) -> BackendChoice:
    """The backend for `choice` in the environment at `prefix` (its own pip.conf counts),
    with `config` as the user's pip configuration (default: read it now, as pip would).

    auto: uv when it is found and can honour the user's pip configuration, else pip with
    the reason. An explicit uv runs uv even then, and the reason says what it leaves out.
    Raises PipConfigError when the configuration cannot be read (pip would refuse too).
    """
    chosen = parse_installer(choice)
    if chosen == "pip":
        return BackendChoice("pip", "chosen")
    if find_uv() is None:
        if chosen == "uv":
            raise CommandFailedError("the uv installer was chosen but no uv binary was found")
        return BackendChoice("pip", "no uv binary was found")
    if config is None:
        config = read_install_config(os.environ, site_prefix=prefix)
    refusal = uv_refusal(config)
    args = tuple(uv_options(config, index))
    if refusal and chosen == "auto":
        return BackendChoice("pip", refusal)
    if refusal:
        return BackendChoice("uv", f"chosen; {refusal}, so it is not applied", args)
    return BackendChoice("uv", "chosen" if chosen == "uv" else "", args)


def find_uv() -> Path | None:
    """The uv next to the running interpreter (the dashboard's venv ships one), else PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("uv")
    return Path(found) if found else None


def parse_installer(value: str | None) -> InstallerChoice:
    """Read ENVDASH_INSTALLER's value strictly (empty means auto)."""
    text = (value or "auto").strip().lower()
    for choice in INSTALLER_CHOICES:
        if text == choice:
            return choice
    raise InvalidSpecError(f"installer must be one of auto, pip, uv (got {value!r})")


def _uv() -> str:
    uv = find_uv()
    if uv is None:
        raise CommandFailedError("the uv installer was chosen but no uv binary was found")
    return str(uv)


def env_has_pip(site_packages: Sequence[Path]) -> bool:
    return any((site / "pip" / "__main__.py").is_file() for site in site_packages)


#: Every uv command starts with this. uv would otherwise read uv.toml and pyproject.toml's
#: [tool.uv] from the working directory up (a project's, i.e. a cloned repository's: the disk
#: is hostile, and such a file can name another index or `exclude-newer`), and the user's
#: and the system's uv.toml. envdash's promise is the user's pip configuration: uv gets it
#: as flags (`uv_options`) and nothing else, so uv reaches the result pip would.
UV_NO_CONFIG = "--no-config"


#: pip settings that make `uv pip compile` refuse (hashes) or answer another question
#: (no-deps lists only the named projects, not what they need).
_NOT_FOR_COMPILE = frozenset({"--require-hashes", "--no-deps"})


@dataclass(frozen=True)
class Commands:
    """argv builders for one backend and one target environment.

    `uv_args`: the user's pip settings as uv flags (`BackendChoice.uv_args`); None reads
    them now from the configuration that applies to the environment of `python`.
    """

    backend: Backend
    python: Path
    own_pip: bool
    index: IndexOptions | None
    uv_args: tuple[str, ...] | None = None

    def _pip(self) -> list[str]:
        # -I: never import from the current directory or the user's site while pip runs.
        if self.own_pip:
            return [str(self.python), "-I", "-m", "pip"]
        return [sys.executable, "-I", "-m", "pip", "--python", str(self.python)]

    def _index_args(self) -> list[str]:
        if self.backend == "pip":
            # pip reads the user's configuration itself; only an explicit override is passed.
            return self.index.args("pip") if self.index is not None else []
        if self.uv_args is not None:
            return list(self.uv_args)
        prefix = self.python.parent.parent
        return uv_options(read_install_config(os.environ, site_prefix=prefix), self.index)

    def install(
        self,
        specs: Sequence[str] = (),
        *,
        requirement_files: Sequence[Path] = (),
        upgrade: Sequence[str] = (),
        no_deps: bool = False,
        editables: Sequence[str] = (),
    ) -> list[str]:
        """`install [options] --requirement=FILE... --editable=URL... -- SPEC...` (files
        absolute, specs after --)."""
        if self.backend == "pip":
            argv = [*self._pip(), "install", "--disable-pip-version-check"]
            if upgrade:
                argv.append("--upgrade")
        else:
            argv = [_uv(), "pip", "install", UV_NO_CONFIG, "--python", str(self.python)]
            argv += [f"--upgrade-package={name}" for name in upgrade]
        options = self._index_args()
        argv += options
        if no_deps and "--no-deps" not in options:  # uv refuses a repeated flag
            argv.append("--no-deps")
        for path in requirement_files:
            argv.append(f"--requirement={Path(path).absolute()}")
        argv += [f"--editable={url}" for url in editables]
        if specs:
            argv += ["--", *specs]
        return argv

    def uninstall(self, names: Sequence[str]) -> list[str]:
        if self.backend == "pip":
            return [*self._pip(), "uninstall", "--yes", "--disable-pip-version-check", "--", *names]
        return [_uv(), "pip", "uninstall", UV_NO_CONFIG, "--python", str(self.python), "--", *names]

    # --- dry runs and exact installs, for envcore.ops.plan ------------------------------
    # Built from `install` so that they get the same index options as the real install.

    def dry_run_install(
        self,
        specs: Sequence[str] = (),
        *,
        requirement_files: Sequence[Path] = (),
        upgrade: Sequence[str] = (),
        constraint_files: Sequence[Path] = (),
        report: Path | None = None,
    ) -> list[str]:
        """`install --dry-run`: what the resolver would change, changing nothing. pip writes
        its JSON installation report to `report` (a file, so the job log stays readable);
        uv prints `+ name==version` / `- name==version` lines."""
        argv = self.install(specs, requirement_files=requirement_files, upgrade=upgrade)
        extra = ["--dry-run"]
        extra += [f"--constraint={Path(path).absolute()}" for path in constraint_files]
        if self.backend == "pip" and report is not None:
            extra.append(f"--report={report}")
        return _before_specs(argv, extra)

    def compile_closure(self, requirement_files: Sequence[Path], constraints: Path) -> list[str]:
        """`uv pip compile` for this environment's interpreter under `constraints`: the names
        the requirements need, one `name==version` line each on stdout (uv only)."""
        argv = [_uv(), "pip", "compile", UV_NO_CONFIG, "--python", str(self.python)]
        # compile only resolves (it has no --require-hashes): the install that follows checks.
        # Nor --no-deps from the user's pip configuration: the closure is the point.
        options = [arg for arg in self._index_args() if arg not in _NOT_FOR_COMPILE]
        argv += ["--no-header", "--no-annotate", "--quiet", *options, f"--constraint={constraints}"]
        return [*argv, "--", *(str(Path(path).absolute()) for path in requirement_files)]

    def install_exact(
        self,
        pins: Sequence[str],
        editables: Sequence[str] = (),
        *,
        requirement_files: Sequence[Path] = (),
    ) -> list[str]:
        """Install exactly `pins` (`name==version`, `name @ url`) and `editables` (URLs),
        without dependencies: a plan already lists every change the resolver wanted. With
        `requirement_files`, the files whose index options and hashes the plan was made
        under (their other lines are already satisfied: the plan holds what they change)."""
        return self.install(
            pins, requirement_files=requirement_files, editables=editables, no_deps=True
        )


def _before_specs(argv: list[str], options: Sequence[str]) -> list[str]:
    """`argv` with `options` inserted before the `--` that starts the user's specs."""
    at = argv.index("--") if "--" in argv else len(argv)
    return [*argv[:at], *options, *argv[at:]]


def create_argv(
    backend: Backend,
    interpreter: Path,
    path: Path,
    *,
    system_site_packages: bool,
    prompt: str | None,
    with_pip: bool = True,
) -> list[str]:
    """`python -m venv` (with pip unless told otherwise, as users of venv expect) or
    `uv venv` (never with pip: uv would have to download it)."""
    if backend == "pip":
        argv = [str(interpreter), "-I", "-m", "venv"]
        if not with_pip:
            argv.append("--without-pip")
    else:
        argv = [_uv(), "venv", UV_NO_CONFIG, "--no-project", "--no-python-downloads"]
        argv += ["--python", str(interpreter)]
    if system_site_packages:
        argv.append("--system-site-packages")
    if prompt:
        argv.append(f"--prompt={prompt}")
    argv += ["--", str(path.absolute())]
    return argv
