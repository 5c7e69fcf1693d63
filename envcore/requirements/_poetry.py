"""poetry's own tables in pyproject.toml as a requirements source, constraints translated to
PEP 440 as poetry-core translates them.

poetry's constraint language: caret `^1.2` (`>=1.2,<2.0`), tilde `~1.2` (`>=1.2,<1.3`),
wildcards `*`, `1.*`, `==1.2.*`, `||` (or, a single `|` too), comma or space (and), and the
PEP 440 operators. The grammar below is poetry-core's (`constraints/version/parser.py`,
`patterns.py`), rule for rule, so a constraint means here what it means to poetry; the tests
compare it with poetry-core itself.

An `||` whose alternatives cannot be one PEP 440 specifier set (`^1.0 || ^3.0`) is not
widened: the entry is a `UnionRequirementEntry` whose `specifier` shows the alternatives
(`>=1.0,<2.0 || >=3.0,<4.0`) and whose `specifier_set` allows a version when one of them
does, so drift checks exactly the union. pip cannot be given a union: its `requirement`
(what a fix installs) is the last alternative, the one written last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import VERSION_PATTERN, InvalidVersion, Version

from envcore._pep508 import specifier_set
from envcore.requirements._entry import ParseIssue, RequirementEntry
from envcore.requirements._text import clip

__all__ = [
    "PoetryDependency",
    "UnionRequirementEntry",
    "poetry_alternatives",
    "poetry_dependency",
    "poetry_entries",
    "python_marker",
]

# poetry-core's patterns (constraints/version/parser.py and patterns.py), as they are.
_OR = re.compile(r"\s*\|\|?\s*")
_AND = re.compile(r"(?<!^)(?<![\^~=>< ,]) *(?<!-)[, ](?!-) *(?!,|$)")
_ANY = re.compile(r"(?i)^v?[xX*](\.[xX*])*$")
_FLAGS = re.VERBOSE | re.IGNORECASE
_CARET = re.compile(rf"^\^\s*(?P<version>{VERSION_PATTERN})$", _FLAGS)
_TILDE = re.compile(rf"^~(?!=)\s*(?P<version>{VERSION_PATTERN})$", _FLAGS)
_TILDE_PEP440 = re.compile(rf"^~=\s*(?P<version>{VERSION_PATTERN})$", _FLAGS)
_X_RANGE = re.compile(r"^(?P<op>!=|==)?\s*v?(?P<version>(\d+)(?:\.(\d+))?(?:\.(\d+))?)(?:\.\*)+$")
_BASIC = re.compile(
    rf"^(?P<op><>|!=|>=?|<=?|==?)?\s*(?P<version>{VERSION_PATTERN}|dev)(?P<wildcard>\.\*)?$",
    _FLAGS,
)

#: One PEP 440 clause: (operator, version text).
Clause = tuple[str, str]


def _release_text(epoch: int, release: Sequence[int]) -> str:
    text = ".".join(str(part) for part in release)
    return f"{epoch}!{text}" if epoch else text


def _next_major(release: tuple[int, ...]) -> tuple[int, ...]:
    return (release[0] + 1, *(0 for _ in release[1:]))


def _next_minor(release: tuple[int, ...]) -> tuple[int, ...]:
    if len(release) == 1:
        return (release[0], 1)
    return (release[0], release[1] + 1, *(0 for _ in release[2:]))


def _next_patch(release: tuple[int, ...]) -> tuple[int, ...]:
    if len(release) < 3:
        return (release[0], release[1] if len(release) > 1 else 0, 1)
    return (release[0], release[1], release[2] + 1, *(0 for _ in release[3:]))


def _version(text: str, constraint: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ValueError(f"could not parse version constraint: {constraint}") from exc


def _from(version: Version, high: tuple[int, ...]) -> tuple[Clause, ...]:
    """`>=version,<high` (poetry's `<high` excludes high's pre-releases, as PEP 440's does)."""
    return ((">=", str(version)), ("<", _release_text(version.epoch, high)))


def _single(constraint: str) -> list[tuple[Clause, ...]]:
    """One constraint (no `,` `||`) as alternatives of PEP 440 clauses; () allows every
    version."""
    return [_clauses] if isinstance(_clauses := _simple(constraint), tuple) else _clauses


def _simple(constraint: str) -> tuple[Clause, ...] | list[tuple[Clause, ...]]:
    if _ANY.match(constraint):
        return ()
    if found := _TILDE.match(constraint):
        version = _version(found["version"], constraint)
        release = version.release
        return _from(version, _next_major(release) if len(release) == 1 else _next_minor(release))
    if found := _TILDE_PEP440.match(constraint):
        version = _version(found["version"], constraint)
        release = version.release
        if len(release) < 2:
            return _from(version, _next_major(release))
        return _from(version, (*release[:-2], release[-2] + 1, 0))
    if found := _CARET.match(constraint):
        version = _version(found["version"], constraint)
        release = version.release
        if release[0] > 0 or len(release) == 1:
            return _from(version, _next_major(release))
        if release[1] > 0 or len(release) == 2:
            return _from(version, _next_minor(release))
        return _from(version, _next_patch(release))
    if found := _X_RANGE.match(constraint):
        operator = "!=" if found["op"] == "!=" else "=="
        return ((operator, f"{_version(found['version'], constraint)}.*"),)
    if found := _BASIC.match(constraint):
        operator = found["op"] or "=="
        text = "0.0.dev0" if found["version"] == "dev" else found["version"]
        version = _version(text, constraint)
        if operator in ("<", "<=", ">", ">="):
            return ((operator, str(version)),)
        if found["wildcard"] is not None:
            return _wildcard(version, invert=operator == "!=")
        # poetry-core's rule: only `!=` excludes; `<>` falls through to equality as `=`.
        return (("!=" if operator == "!=" else "==", str(version)),)
    raise ValueError(f"could not parse version constraint: {constraint}")


def _version_text(
    version: Version, *, pre: tuple[str, int] | None, post: int | None, dev: int | None
) -> str:
    text = _release_text(version.epoch, version.release)
    text += f"{pre[0]}{pre[1]}" if pre else ""
    text += f".post{post}" if post is not None else ""
    return text + (f".dev{dev}" if dev is not None else "")


def _wildcard(version: Version, *, invert: bool) -> list[tuple[Clause, ...]]:
    """`==V.*` / `!=V.*`. A plain release is PEP 440's prefix match; for a pre-, post- or
    dev-release poetry-core's `_make_x_constraint_range` makes the range from V's dev0 to
    the next such release's dev0 (and `!=` its complement: two alternatives)."""
    if version.pre is None and version.post is None and version.dev is None:
        return [(("!=" if invert else "==", f"{version}.*"),)]
    pre, post, dev = version.pre, version.post, version.dev
    if post is not None:
        high = _version_text(version, pre=pre, post=post + 1 if dev is None else post, dev=0)
    elif pre is not None:
        bumped = (pre[0], pre[1] + 1) if dev is None else pre
        high = _version_text(version, pre=bumped, post=None, dev=0)
    else:
        high = _version_text(version, pre=None, post=None, dev=(dev or 0) + 1)
    low = _version_text(version, pre=pre, post=post, dev=0)
    if invert:
        return [(("<", low),), ((">=", high),)]
    return [((">=", low), ("<", high))]


def _exclusive_bounds(clauses: tuple[Clause, ...]) -> tuple[Clause, ...]:
    """poetry-core intersects ranges: `!=V` beside an inclusive bound at V makes that bound
    exclusive and disappears (`>=1,!=1` is `>1`, `<=2,!=2` is `<2`). In PEP 440 that is
    not the same set: `>1` also excludes 1.post1 and `<2` also excludes 2.dev0, so the
    clauses are rewritten as poetry-core renders them."""
    excluded = {Version(v) for op, v in clauses if op == "!=" and not v.endswith(".*")}
    bounds = {Version(v) for op, v in clauses if op in (">=", "<=") and Version(v) in excluded}
    if not bounds:
        return clauses
    rewritten: list[Clause] = []
    for operator, version in clauses:
        if operator in (">=", "<=") and Version(version) in bounds:
            rewritten.append((operator[0], version))
        elif not (operator == "!=" and not version.endswith(".*") and Version(version) in bounds):
            rewritten.append((operator, version))
    return tuple(rewritten)


def poetry_alternatives(constraint: str) -> tuple[str, ...]:
    """A poetry constraint as PEP 440 specifier sets, one per `||` alternative ("" allows
    every version; a single "" when any alternative does). ValueError when poetry-core
    would refuse it."""
    if constraint == "*":
        return ("",)
    alternatives: list[str] = []
    for written in _OR.split(constraint.strip()):
        alternative = written.rstrip(",").rstrip()
        # `a,b` is a intersect b; a part that is itself two alternatives (`!=1.0a1.*`)
        # distributes over the others.
        combined: list[tuple[Clause, ...]] = [()]
        for part in _AND.split(alternative):
            combined = [done + more for done in combined for more in _single(part)]
        for clauses in combined:
            text = ",".join(f"{op}{version}" for op, version in _exclusive_bounds(clauses))
            try:
                specifier_set(text)
            except InvalidSpecifier as exc:
                raise ValueError(f"could not parse version constraint: {constraint}") from exc
            alternatives.append(text)
    # Every alternative is read (poetry-core refuses `* || 1.x` for its second half).
    return ("",) if "" in alternatives else tuple(dict.fromkeys(alternatives))


def python_marker(constraint: str) -> str:
    """A `python = "..."` constraint as the marker poetry-core makes of it: `python_version`
    for versions of one or two parts, `python_full_version` for longer ones and for `>`,
    `<=` and `!=` (poetry reads `<=3.10` as `<= 3.10.0`), alternatives joined by `or`."""
    parts: list[str] = []
    for alternative in poetry_alternatives(constraint):
        if not alternative:
            return ""
        clauses = []
        for clause in alternative.split(","):
            operator = clause[:2] if clause[1] in "=" else clause[:1]
            version = clause[len(operator) :]
            short = len(version.split(".")) < 3 and not version.endswith(".*")
            if operator in (">", "<=", "!=") and short:
                padded = ".".join((*version.split("."), "0", "0")[:3])
                clauses.append(f'python_full_version {operator} "{padded}"')
            elif short:
                clauses.append(f'python_version {operator} "{version}"')
            else:
                clauses.append(f'python_full_version {operator} "{version}"')
        parts.append(" and ".join(clauses))
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({part})" for part in parts)


class _UnionSpecifierSet(SpecifierSet):
    """Allows a version when one of its alternatives does (a poetry `||`)."""

    def __init__(self, alternatives: Sequence[str]) -> None:
        super().__init__("")
        self.alternatives = tuple(specifier_set(text) for text in alternatives)

    def contains(
        self, item: object, prereleases: bool | None = None, installed: bool | None = None
    ) -> bool:
        return any(
            s.contains(item, prereleases=prereleases, installed=installed)  # type: ignore[arg-type]
            for s in self.alternatives
        )

    def __str__(self) -> str:
        return " || ".join(str(s) for s in self.alternatives)


@dataclass
class UnionRequirementEntry(RequirementEntry):
    """An entry whose version is one of several PEP 440 sets (see the module docstring)."""

    alternatives: tuple[str, ...] = ()

    @property
    def specifier_set(self) -> SpecifierSet:
        return _UnionSpecifierSet(self.alternatives)

    @cached_property
    def requirement(self) -> Requirement | None:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        marker = f" ; {self.marker}" if self.marker else ""
        return Requirement(f"{self.raw_name}{extras}{self.alternatives[-1]}{marker}")


@dataclass
class PoetryDependency:
    """One `[tool.poetry...dependencies]` item, before it becomes an entry."""

    raw_name: str
    alternatives: tuple[str, ...] = ("",)
    marker: str | None = None
    extras: tuple[str, ...] = ()
    optional: bool = False
    url: str | None = None
    editable: bool = False
    issues: list[str] = field(default_factory=list)


def _join_markers(markers: Sequence[str]) -> str | None:
    present = [m for m in markers if m]
    if len(present) > 1:
        return " and ".join(f"({m})" for m in present)
    return present[0] if present else None


def poetry_dependency(raw_name: str, spec: object, project_dir: Path) -> PoetryDependency:
    """poetry-core's `Factory.create_dependency`, for what a requirement needs."""
    made = PoetryDependency(raw_name)
    if isinstance(spec, str):
        spec = {"version": spec}
    if not isinstance(spec, dict):
        made.issues.append(f"{raw_name}: a constraint must be a string or a table")
        return made
    try:
        markers = [spec["markers"]] if isinstance(spec.get("markers"), str) else []
        if isinstance(spec.get("python"), str):
            markers.append(python_marker(spec["python"]))
        if isinstance(spec.get("platform"), str):
            markers.append(f'sys_platform == "{spec["platform"]}"')
        made.marker = _join_markers(markers)
        extras = spec.get("extras")
        extras = extras if isinstance(extras, list) else []
        made.extras = tuple(sorted(e for e in extras if isinstance(e, str)))
        made.optional = spec.get("optional") is True
        if isinstance(spec.get("git"), str):
            reference = next(
                (spec[k] for k in ("branch", "tag", "rev") if isinstance(spec.get(k), str)), ""
            )
            made.url = f"git+{spec['git']}" + (f"@{reference}" if reference else "")
            if isinstance(spec.get("subdirectory"), str):
                made.url += f"#subdirectory={spec['subdirectory']}"
        elif isinstance(spec.get("path"), str) or isinstance(spec.get("file"), str):
            from envcore.locks._read import file_url

            made.url = file_url(project_dir, spec.get("path") or spec["file"])
            made.editable = spec.get("develop") is True
        elif isinstance(spec.get("url"), str):
            made.url = spec["url"]
        else:
            version = spec.get("version", "*")
            made.alternatives = poetry_alternatives(version if isinstance(version, str) else "*")
    except ValueError as exc:
        made.issues.append(f"{raw_name}: {exc}")
    return made


def poetry_entries(
    table: Mapping[str, object],
    path: Path,
    *,
    extras: Mapping[NormalizedName, frozenset[NormalizedName]] | None = None,
    locate: Mapping[str, int] | None = None,
) -> tuple[list[RequirementEntry], list[ParseIssue]]:
    """Entries for a poetry dependencies table (`python` left out, as poetry does); an
    optional dependency only when one of `extras` (extra -> names) names it."""
    wanted = set().union(*(extras or {}).values())
    entries: list[RequirementEntry] = []
    issues: list[ParseIssue] = []
    for raw_name, value in table.items():
        if raw_name.lower() == "python":
            continue
        line = (locate or {}).get(raw_name, 1)
        for spec in value if isinstance(value, list) else [value]:
            made = poetry_dependency(raw_name, spec, path.parent)
            issues.extend(ParseIssue(f"{path}:{line}", issue) for issue in made.issues)
            if made.issues or (made.optional and canonicalize_name(raw_name) not in wanted):
                continue
            entry = _entry(made, path, line)
            if isinstance(entry, ParseIssue):
                issues.append(entry)
            else:
                entries.append(entry)
    return entries, issues


def _entry(made: PoetryDependency, path: Path, line: int) -> RequirementEntry | ParseIssue:
    name = canonicalize_name(made.raw_name)
    if made.marker:
        try:
            Requirement(f"x ; {made.marker}")
        except InvalidRequirement as exc:
            message = f"{made.raw_name}: invalid marker: {clip(str(exc))}"
            return ParseIssue(f"{path}:{line}", message)
    common = {
        "name": name,
        "raw_name": made.raw_name,
        "marker": made.marker,
        "extras": made.extras,
        "editable": made.editable,
        "url": made.url,
        "constraint": False,
        "hashes": (),
        "source": f"{path}:{line}",
        "path": path,
        "line_number": line,
    }
    if len(made.alternatives) > 1:
        shown = " || ".join(made.alternatives)
        return UnionRequirementEntry(
            specifier=shown,
            text=f"{made.raw_name} {shown}",
            alternatives=made.alternatives,
            **common,  # type: ignore[arg-type]
        )
    specifier = str(specifier_set(made.alternatives[0])) if made.alternatives[0] else ""
    text = f"{made.raw_name}{specifier}" if made.url is None else f"{made.raw_name} @ {made.url}"
    return RequirementEntry(specifier=specifier, text=text, **common)  # type: ignore[arg-type]
