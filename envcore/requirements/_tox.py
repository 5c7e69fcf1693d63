"""What a tox test environment declares it needs (`deps`), read statically from tox's config.

tox.ini is read with configparser, as tox 4 reads it: `[testenv:NAME]` falling back to
`[testenv]`, comments stripped, factor-conditional lines (`py311: pkg`, `!py311: pkg`,
`py{311,312}-django: pkg`) kept only for the env's factors, `{[section]key}` references
and a few constant substitutions (`{toxinidir}`, `{/}`, `{env:VAR:default}`) resolved.
The lines then go through the requirements reader (`-r file` relative to tox.ini's
directory, the roots respected). Nothing of tox is imported and nothing is executed:
what only tox could know at run time (`{posargs}`, `{env:VAR}` without a default, other
substitutions) makes the whole answer None, "cannot be read statically". tox 4's TOML
configuration (`tox.toml`, `[tool.tox]` in pyproject.toml) is read when its deps are plain
strings. A noxfile is Python code: it is never executed, so nox sessions have no
statically readable deps at all (there is no reader for it, by design).
"""

from __future__ import annotations

import bisect
import configparser
import os
import platform
import re
import sys
from collections.abc import Mapping, Sequence
from itertools import product
from pathlib import Path

from envcore._files import read_bytes
from envcore.errors import RequirementsError
from envcore.requirements._entry import ParsedRequirements, ParseIssue
from envcore.requirements._file import _Walker
from envcore.requirements._options import combine_options
from envcore.requirements._roots import not_read, resolve_roots, within_roots

__all__ = ["find_tox_config", "parse_tox_deps"]

#: tox's comment rule (`tox.config.loader.ini._COMMENTS`): `#` not escaped, to line end.
_COMMENT = re.compile(r"\s*(?<!\\)#.*")
#: A factor condition ends at the first `:` followed by whitespace or the line's end.
_CONDITION_END = re.compile(r":(\s|$)")
#: tox 4.67's `_FACTOR_RE`: word characters, dots and fnmatch characters (matched literally,
#: as tox matches them), or nothing.
_FACTOR = re.compile(r"^(?:!?(?:\[!?|[\w.*?\]])(?:\[!?|[\w.*?\]-])*|)$")
_BRACES = re.compile(r"\{([^{}]*)\}")
#: `{...}` substitutions, innermost first; `\{` is a literal brace.
_SUBSTITUTION = re.compile(r"(?<!\\)\{([^{}]*)\}")
_REFERENCE = re.compile(r"^\[([^\]]*)\](.+)$")
#: Limits on what references may make of a hostile file, far above any real tox.ini.
_MAX_DEPTH = 10
_MAX_SUBSTITUTIONS = 1000
_MAX_TEXT = 1024 * 1024


class _NotStatic(Exception):
    """Something only tox could tell at run time: the deps cannot be read statically."""


def _expand_braces(condition: str) -> list[str]:
    """`py{311,312}-django` -> ['py311-django', 'py312-django'] (tox's generative names)."""
    pieces: list[list[str]] = []
    position = 0
    for match in _BRACES.finditer(condition):
        pieces.append([condition[position : match.start()]])
        items = [item.strip() for item in match.group(1).split(",")]
        if any(re.fullmatch(r"\d*-\d*", item) for item in items):
            raise _NotStatic  # numeric ranges (`{10-13}`, `{11-}`) follow tox's own bounds
        pieces.append(items)
        position = match.end()
    pieces.append([condition[position:]])
    return ["".join(parts) for parts in product(*pieces)]


def _condition_holds(condition: str, factors: frozenset[str]) -> bool | None:
    """Whether a factor condition (`py311,!py312-django`) holds; None when not one."""
    groups: list[list[str]] = []
    for alternative in re.split(r",(?![^{]*\})", condition):
        for name in _expand_braces(alternative.strip()):
            group = name.split("-")
            if not all(_FACTOR.match(item) for item in group):
                return None
            groups.append(group)
    return any(
        all((item.lstrip("!") in factors) != item.startswith("!") for item in group)
        for group in groups
    )


def _active_factors(testenv: str) -> frozenset[str]:
    """The env name's factors, the platform and the machine, as tox counts them."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return frozenset({*testenv.split("-"), sys.platform, machine})


def _filter_lines(value: str, factors: frozenset[str]) -> list[str] | None:
    """The lines of a value that apply to the env (tox's `process_raw` + `filter_for_env`);
    None when it has content but none of its lines applies (tox then looks further)."""
    kept: list[str] = []
    skipping = False
    content = False
    for raw in value.replace("\r", "").split("\n"):
        if raw.startswith("#"):
            continue
        line = _COMMENT.sub("", raw).replace("\\#", "#")
        content = content or bool(line.strip())
        if skipping:  # the continuation of a line of other factors
            skipping = line.endswith("\\")
            continue
        found = _CONDITION_END.search(line)
        holds = _condition_holds(line[: found.start()].strip(), factors) if found else None
        if holds is None:
            kept.append(line)
        elif holds:
            kept.append(line[found.end() :].strip() if found else line)
        else:
            skipping = line.endswith("\\")
    return None if content and not "".join(kept).strip() else kept


class _IniDeps:
    """One tox.ini's parser, resolving a test env's deps with their substitutions."""

    def __init__(self, parser: configparser.ConfigParser, tox_dir: str, testenv: str) -> None:
        self.parser = parser
        self.tox_dir = tox_dir
        self.testenv = testenv
        self.factors = _active_factors(testenv)
        self.substitutions = 0

    def value(self, section: str, key: str, depth: int = 0) -> list[str] | None:
        """The applicable lines of `[section]key`, substituted; None when it is not set
        (or none of its lines applies to this env: tox then looks further, too)."""
        if depth > _MAX_DEPTH:
            raise _NotStatic
        if not self.parser.has_option(section, key):
            return None
        lines = _filter_lines(self.parser.get(section, key, raw=True), self.factors)
        if lines is None:
            return None
        joined = "\n".join(lines).replace("\\\n", "")
        return self.substitute(joined, depth).split("\n")

    def substitute(self, text: str, depth: int) -> str:
        """Innermost first, until none is left (`{env:A:{env:B:x}}`)."""
        while _SUBSTITUTION.search(text):
            text = _SUBSTITUTION.sub(lambda m: self.replacement(m.group(1), depth), text)
            if len(text) > _MAX_TEXT:
                raise _NotStatic  # references that multiply (`{[a]x}{[a]x}` nested)
        return text

    def replacement(self, inner: str, depth: int) -> str:
        self.substitutions += 1
        if self.substitutions > _MAX_SUBSTITUTIONS:
            raise _NotStatic
        return self.resolve(inner, depth)

    def resolve(self, inner: str, depth: int) -> str:
        reference = _REFERENCE.match(inner)
        if reference:
            section = reference.group(1) or f"testenv:{self.testenv}"
            lines = self.value(section, reference.group(2).strip(), depth + 1)
            if lines is None:
                raise _NotStatic  # tox fails on a missing reference: say we cannot tell
            return "\n".join(lines)
        return _constant(inner, self.tox_dir, self.testenv)


def _constant(inner: str, tox_dir: str, testenv: str) -> str:
    """The substitutions whose value is known without running tox."""
    if inner in {"toxinidir", "tox_root"}:
        return tox_dir
    if inner in {"envname", "env_name"}:
        return testenv
    if inner == "/":
        return os.sep
    if inner == ":":
        return os.pathsep
    if inner.startswith("env:"):
        _, _, default = inner[4:].partition(":")
        if ":" in inner[4:]:
            return default  # the value tox falls back on (the user's shell may differ)
    raise _NotStatic  # {posargs}, {env:X} without a default, {envsitepackagesdir}...


def _ini_deps(text: str, tox_dir: str, testenv: str) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(str(exc).splitlines()[0]) from exc
    deps = _IniDeps(parser, tox_dir, testenv)
    for section in (f"testenv:{testenv}", "testenv"):
        lines = deps.value(section, "deps")
        if lines is not None:
            return [line.replace("\\{", "{").replace("\\}", "}") for line in lines]
    return []


def _toml_deps(data: Mapping[str, object], tox_dir: str, testenv: str) -> list[str] | None:
    """tox 4's native TOML: `env.NAME.deps` falling back to `env_run_base.deps`; None when
    the TOML has no tox configuration at all."""
    envs = data.get("env")
    specific = envs.get(testenv) if isinstance(envs, dict) else None
    for table in (specific, data.get("env_run_base")):
        if isinstance(table, dict) and "deps" in table:
            items = table["deps"]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise _NotStatic  # `{ replace = ... }` tables are tox's to evaluate
            return [
                _SUBSTITUTION.sub(lambda m: _constant(m.group(1), tox_dir, testenv), item)
                for item in items
            ]
    return [] if (specific is not None or "env_run_base" in data or "env_list" in data) else None


def _declared_deps(path: Path, text: str, testenv: str) -> list[str]:
    tox_dir = str(path.parent)
    if path.suffix != ".toml":
        return _ini_deps(text, tox_dir, testenv)
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib recurses once per level of nesting
        raise ValueError("not valid TOML: nested too deeply") from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        tox = tool.get("tox") if isinstance(tool, dict) else None
        if not isinstance(tox, dict):
            return []
        if isinstance(tox.get("legacy_tox_ini"), str):
            return _ini_deps(tox["legacy_tox_ini"], tox_dir, testenv)
        data = tox
    return _toml_deps(data, tox_dir, testenv) or []


#: `deps = pytest` (a key's first line): the value.
_DEPS_KEY = re.compile(r"^deps\s*=\s*(.*)$")
#: A TOML string (`deps = ["pytest>=8", 'attrs']`): its text.
_QUOTED = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'")


def _line_texts(raw: str) -> set[str]:
    """What a dep taken from this file line reads: the line without its comment, after
    `deps =` or a factor condition (`py311: tomli`), or a TOML string in it."""
    line = _COMMENT.sub("", raw).replace("\\#", "#").strip() if "#" in raw else raw.strip()
    texts = {line}
    key = _DEPS_KEY.match(line) if line.startswith("deps") else None
    if key:
        texts.add(key.group(1).strip())
    condition = _CONDITION_END.search(line) if ":" in line else None
    if condition:
        texts.add(line[condition.end() :].strip())
    if '"' in raw or "'" in raw:
        texts.update(a or b for a, b in _QUOTED.findall(raw))
    return texts


def _line_numbers(text: str, lines: Sequence[str], testenv: str) -> list[int]:
    """Where each dep line stands in the file (1 where no line reads it: a substitution).

    One pass indexes the file's lines by what a dep taken from them reads. Deps keep file
    order, so each takes the first such line at or after the previous dep's (the first of
    all when there is none: a `{[base]deps}` reference reaches back), starting at the env's
    own section when it has one, else the base section.
    """
    places: dict[str, list[int]] = {}
    headers: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("["):
            headers.setdefault(raw.strip(), number)
        for item in _line_texts(raw):
            if item:
                places.setdefault(item, []).append(number)
    own = (f"[testenv:{testenv}]", f"[env.{testenv}]", f"[tool.tox.env.{testenv}]")
    base = ("[testenv]", "[env_run_base]", "[tool.tox.env_run_base]")
    cursor = next((headers[header] for header in (*own, *base) if header in headers), 0)
    found = []
    for line in lines:
        numbers = places.get(line.strip())
        if not numbers:
            found.append(1)
            continue
        after = bisect.bisect_left(numbers, cursor)
        cursor = numbers[after] if after < len(numbers) else numbers[0]
        found.append(cursor)
    return found


def find_tox_config(project_dir: Path, roots: Sequence[Path | str] | None = None) -> Path | None:
    """The file tox 4 takes its configuration from, in tox's order (`tox.config.source.
    discover`): tox.ini, setup.cfg with a `[tox:tox]` section, pyproject.toml with a
    `[tool.tox]` table, tox.toml. Files outside `roots` are not opened to look."""
    tox_ini = project_dir / "tox.ini"
    if tox_ini.is_file():
        return tox_ini
    for name, needle in (("setup.cfg", "[tox:tox]"), ("pyproject.toml", "[tool.tox")):
        candidate = project_dir / name
        if not candidate.is_file() or not within_roots(candidate, roots):
            continue
        try:
            text = read_bytes(candidate).decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        if any(line.strip().startswith(needle) for line in text.splitlines()):
            return candidate
    tox_toml = project_dir / "tox.toml"
    return tox_toml if tox_toml.is_file() else None


def parse_tox_deps(
    tox_ini: Path, testenv: str, *, roots: Sequence[Path | str] | None = None
) -> ParsedRequirements | None:
    """The `deps` tox installs into the test env `testenv`, read from `tox_ini` (a tox.ini,
    tox.toml or pyproject.toml) without running tox; None when they cannot be read
    statically (a `{posargs}`, an `{env:VAR}` without default...) and for tox's own
    packaging env (`.pkg`), which holds what the build backend needs, not deps.

    `-r`/`-c` files are read relative to tox.ini's directory, only inside `roots`. Issues
    are located `tox.ini:LINE`. Raises RequirementsError when the file cannot be read or
    is not INI/TOML.
    """
    tox_ini = Path(tox_ini)
    if testenv.startswith("."):
        return None  # tox 4's packaging envs (`.pkg`, `.pkg-cpython311`): no deps of theirs
    if not within_roots(tox_ini, roots):
        return not_read(tox_ini)
    try:
        text = read_bytes(tox_ini).decode("utf-8-sig")
    except OSError as exc:
        raise RequirementsError(f"cannot read {tox_ini}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RequirementsError(f"{tox_ini} is not UTF-8 text (byte {exc.start})") from exc
    try:
        lines = [line for line in _declared_deps(tox_ini, text, testenv) if line.strip()]
    except _NotStatic:
        return None
    except ValueError as exc:
        raise RequirementsError(f"{tox_ini} cannot be read: {exc}") from exc
    display = str(tox_ini)
    walker = _Walker({}, str(tox_ini.parent.absolute()), resolve_roots(roots))
    walker.walk(display, "\n".join(lines) + "\n", False, ((os.path.realpath(tox_ini), display),))
    numbers = _line_numbers(text, lines, testenv)

    def located(source: str) -> str:
        where, _, number = source.rpartition(":")
        if where != display or not number.isdigit() or not 0 < int(number) <= len(numbers):
            return source
        return f"{display}:{numbers[int(number) - 1]}"

    for entry in walker.entries:
        if entry.path == tox_ini:
            entry.line_number = int(located(entry.source).rpartition(":")[2])
            entry.source = located(entry.source)
    return ParsedRequirements(
        entries=tuple(walker.entries),
        errors=tuple(ParseIssue(located(i.source), i.message) for i in walker.errors),
        options=combine_options(walker.option_lines),
        files=(tox_ini, *walker.files.values()),
        warnings=tuple(ParseIssue(located(i.source), i.message) for i in walker.warnings),
        outside=tuple(walker.outside.values()),
    )
