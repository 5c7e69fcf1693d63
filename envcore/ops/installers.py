"""The pip and uv backends: which one to use, and the exact argv each operation runs.

Only argv is built here (running is the runner's job). User-given specs always come after
`--`, so neither tool can read one as an option; pip and uv both accept that.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from envcore.errors import CommandFailedError, InvalidSpecError
from envcore.pipconfig import PYPI_SIMPLE_URL, IndexConfig, read_pip_config

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
        """These settings as options of `backend` (uv never reads pip's configuration)."""
        args = ["--no-index"] if self.no_index else []
        if self.index_url:
            args.append(f"--index-url={self.index_url}")
        args += [f"--extra-index-url={url}" for url in self.extra_index_urls]
        args += [f"--find-links={link}" for link in self.find_links]
        trusted = "--trusted-host" if backend == "pip" else "--allow-insecure-host"
        args += [f"{trusted}={host}" for host in self.trusted_hosts]
        return args


def user_pip_index(site_prefix: Path, environ: Mapping[str, str] | None = None) -> IndexOptions:
    """The index settings pip would use for the environment at `site_prefix` (its config
    files, PIP_* variables and the environment's own pip.conf), for uv to be told."""
    config = read_pip_config(os.environ if environ is None else environ, site_prefix=site_prefix)
    options = IndexOptions.from_config(config)
    if options.index_url == PYPI_SIMPLE_URL:
        # pip's default, not a choice: leave uv free to use its own (UV_INDEX_URL...).
        options = replace(options, index_url=None)
    return options


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


def resolve_backend(choice: InstallerChoice | str) -> Backend:
    choice = parse_installer(choice)
    if choice == "auto":
        return "uv" if find_uv() is not None else "pip"
    if choice == "uv" and find_uv() is None:
        raise CommandFailedError("the uv installer was chosen but no uv binary was found")
    return choice


def _uv() -> str:
    uv = find_uv()
    if uv is None:
        raise CommandFailedError("the uv installer was chosen but no uv binary was found")
    return str(uv)


def env_has_pip(site_packages: Sequence[Path]) -> bool:
    return any((site / "pip" / "__main__.py").is_file() for site in site_packages)


@dataclass(frozen=True)
class Commands:
    """argv builders for one backend and one target environment."""

    backend: Backend
    python: Path
    own_pip: bool
    index: IndexOptions | None

    def _pip(self) -> list[str]:
        # -I: never import from the current directory or the user's site while pip runs.
        if self.own_pip:
            return [str(self.python), "-I", "-m", "pip"]
        return [sys.executable, "-I", "-m", "pip", "--python", str(self.python)]

    def _index_args(self) -> list[str]:
        if self.backend == "pip":
            # pip reads the user's configuration itself; only an explicit override is passed.
            return self.index.args("pip") if self.index is not None else []
        index = self.index if self.index is not None else user_pip_index(self.python.parent.parent)
        return index.args("uv")

    def install(
        self,
        specs: Sequence[str] = (),
        *,
        requirement_files: Sequence[Path] = (),
        upgrade: Sequence[str] = (),
        no_deps: bool = False,
    ) -> list[str]:
        """`install [options] --requirement=FILE... -- SPEC...` (files absolute, specs after --)."""
        if self.backend == "pip":
            argv = [*self._pip(), "install", "--disable-pip-version-check"]
            if upgrade:
                argv.append("--upgrade")
        else:
            argv = [_uv(), "pip", "install", "--python", str(self.python)]
            argv += [f"--upgrade-package={name}" for name in upgrade]
        argv += self._index_args()
        if no_deps:
            argv.append("--no-deps")
        for path in requirement_files:
            argv.append(f"--requirement={Path(path).absolute()}")
        if specs:
            argv += ["--", *specs]
        return argv

    def uninstall(self, names: Sequence[str]) -> list[str]:
        if self.backend == "pip":
            return [*self._pip(), "uninstall", "--yes", "--disable-pip-version-check", "--", *names]
        return [_uv(), "pip", "uninstall", "--python", str(self.python), "--", *names]

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
        argv = [_uv(), "pip", "compile", "--python", str(self.python), "--no-header"]
        argv += ["--no-annotate", "--quiet", *self._index_args(), f"--constraint={constraints}"]
        return [*argv, "--", *(str(Path(path).absolute()) for path in requirement_files)]

    def install_exact(self, pins: Sequence[str], editables: Sequence[str] = ()) -> list[str]:
        """Install exactly `pins` (`name==version`, `name @ url`) and `editables` (URLs),
        without dependencies: a plan already lists every change the resolver wanted."""
        argv = self.install(pins, no_deps=True)
        return _before_specs(argv, [f"--editable={url}" for url in editables])


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
        argv = [_uv(), "venv", "--no-project", "--no-python-downloads"]
        argv += ["--python", str(interpreter)]
    if system_site_packages:
        argv.append("--system-site-packages")
    if prompt:
        argv.append(f"--prompt={prompt}")
    argv += ["--", str(path.absolute())]
    return argv
