"""uv.lock read as `uv sync` reads it: the project (or workspace members) as roots, the
dependency edges whose markers hold for one environment, the default groups.

uv.lock (version 1) is a graph, not a list: each `[[package]]` names its dependencies,
optional dependencies (extras) and dev-dependencies (groups), with markers on the edges.
What a sync installs is what is reachable from the roots through edges whose markers
hold, with the extras an edge asks for; what only false edges reach is not applicable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier
from packaging.utils import NormalizedName, canonicalize_name

from envcore._pep508 import evaluate_marker, specifier_set
from envcore._pep508 import marker as parsed_marker
from envcore.errors import MarkerError, RequirementsError
from envcore.locks import LockedPackage, LockFile, LockSelection
from envcore.locks._read import Fields, file_url, read_project_toml, read_toml
from envcore.locks._select import groups_phrase, selection_line
from envcore.locks._uvtables import Edge, Node, Resolver, read_edge, read_package

__all__ = ["UvLock", "read_uv_lock"]

#: uv installs the `dev` group unless the project's `tool.uv.default-groups` says otherwise.
_UV_DEFAULT_GROUPS = ("dev",)


@dataclass(frozen=True)
class UvLock(LockFile):
    """A uv.lock: its graph, its roots (the project, or the workspace members), and why
    the default groups are what they are."""

    nodes: tuple[Node, ...] = ()
    roots: tuple[int, ...] = ()
    defaults_from: str = "uv sync's default"
    #: The lock's `requires-python`: uv sync refuses an interpreter outside it.
    requires_python: str | None = None
    #: The groups and `extra:NAME`s the project declares (its pyproject.toml's
    #: `dependency-groups` and `optional-dependencies`, the lock's own), which uv sync
    #: accepts; None when that pyproject.toml cannot be read (nothing is refused then).
    declared: frozenset[str] | None = None
    #: A virtual workspace root's own groups (`[manifest] dependency-groups`).
    root_groups: Mapping[NormalizedName, tuple[Edge, ...]] = field(default_factory=dict)

    def select(
        self,
        marker_environment: Mapping[str, str],
        *,
        groups: Sequence[str] | None = None,
        tags: object = None,
    ) -> LockSelection:
        """What `uv sync` installs for the environment (`tags` are not needed: uv.lock's
        versions do not depend on which wheel is picked). `groups` are added to the
        defaults, as `uv sync --group lint --extra x` adds them (dev is kept)."""
        self._check_python(marker_environment)
        self._check_declared(groups or ())
        chosen = tuple(dict.fromkeys([*self.default_groups, *(groups or ())]))
        extras = {canonicalize_name(g[6:]) for g in chosen if g.startswith("extra:")}
        wanted = {canonicalize_name(g) for g in chosen if not g.startswith("extra:")}
        projects = [self.nodes[root].package.name for root in self.roots]
        holds = _MarkerCache(
            self.path, marker_environment, conflict_names(projects, extras, wanted)
        )
        selected: dict[int, set[NormalizedName]] = {}
        false_edges: list[Edge] = []
        pending: list[tuple[int, frozenset[NormalizedName]]] = []

        def follow(edges: Iterable[Edge]) -> None:
            for edge in edges:
                if edge.marker is not None and not holds(edge.marker):
                    false_edges.append(edge)
                else:
                    pending.append((edge.target, edge.extras))

        for root in self.roots:
            pending.append((root, frozenset(extras)))
            for group in sorted(wanted):
                follow(self.nodes[root].groups.get(group, ()))
        for group in sorted(wanted):
            follow(self.root_groups.get(group, ()))
        while pending:
            index, asked = pending.pop()
            done = selected.get(index)
            if done is not None and asked <= done:
                continue
            selected.setdefault(index, set()).update(asked)
            node = self.nodes[index]
            follow(node.dependencies)
            for extra in asked:
                follow(node.extras.get(extra, ()))
        skipped = self._skipped(selected, false_edges)
        return LockSelection(
            packages=tuple(
                sorted(
                    (self.nodes[i].package for i in selected if _installed(self.nodes[i])),
                    key=lambda package: package.name,
                )
            ),
            skipped=tuple(sorted(skipped, key=lambda pair: pair[0].name)),
            groups=chosen,
            description=self._description(chosen, not groups, marker_environment),
        )

    def _check_declared(self, asked: Sequence[str]) -> None:
        """uv sync refuses a group or extra the project does not declare (extras first),
        and so does this, in uv's words: a typo is never a selection nobody checked."""
        if self.declared is None:
            return
        undeclared = [
            name
            for name in sorted(asked, key=lambda g: not g.startswith("extra:"))
            if canonical_group(name) not in self.declared
        ]
        if not undeclared:
            return
        name = undeclared[0]
        if name.startswith("extra:"):
            project = self.project_name or self.path.parent.name
            problem = (
                f"Extra `{name[6:]}` is not defined in the `optional-dependencies` table "
                f"for `{project}`"
            )
        else:
            problem = f"Group `{name}` is not defined in the project's `dependency-groups` table"
        raise RequirementsError(f"{self.path}: {problem} (uv sync refuses it)")

    def _check_python(self, marker_environment: Mapping[str, str]) -> None:
        """A lock for other Pythons does not apply at all: uv sync would refuse it."""
        python = marker_environment.get("python_full_version")
        if self.requires_python is None or not python:
            return
        if not specifier_set(self.requires_python).contains(python, prereleases=True):
            raise RequirementsError(
                f"{self.path}: requires-python {self.requires_python} excludes this "
                f"environment's Python {python} (uv sync would refuse it)"
            )

    def _skipped(
        self, selected: Mapping[int, object], false_edges: Sequence[Edge]
    ) -> list[tuple[LockedPackage, str]]:
        """What only false edges reach, each with the false marker that cut it off (what
        a skipped package needs is cut off by the same marker). Another version of a
        selected package (a resolution forked by markers) is the selected one's business:
        it is left out, not reported beside it."""
        names = {self.nodes[index].package.name for index in selected}
        reasons: dict[int, str] = {}
        pending = [(edge.target, edge.marker or "") for edge in reversed(false_edges)]
        while pending:
            index, reason = pending.pop()
            if index in selected or index in reasons:
                continue
            reasons[index] = reason
            pending += [(edge.target, reason) for edge in self.nodes[index].dependencies]
        return [
            (self.nodes[index].package, reason)
            for index, reason in reasons.items()
            if _installed(self.nodes[index]) and self.nodes[index].package.name not in names
        ]

    def _description(
        self, chosen: Sequence[str], default: bool, marker_environment: Mapping[str, str]
    ) -> str:
        names = [self.nodes[i].package.name for i in self.roots]
        what = f"project {names[0]}" if len(names) == 1 else f"workspace {', '.join(names)}"
        why = self.defaults_from if default else f"{self.defaults_from}, plus those asked for"
        picked = f"{what} with {groups_phrase(chosen, why)}"
        return selection_line(self.path, picked, marker_environment)


def _installed(node: Node) -> bool:
    return node.package.source != "virtual"


def conflict_names(
    projects: Iterable[str], extras: Iterable[str], groups: Iterable[str]
) -> tuple[str, ...]:
    """The names uv gives the selected extras and groups in the markers it writes for
    `[tool.uv] conflicts`: `extra == 'extra-4-demo-one'`, `group-3-app-dev`."""
    return tuple(
        f"{kind}-{len(project)}-{project}-{name}"
        for project in projects
        for kind, names in (("extra", extras), ("group", groups))
        for name in sorted(names)
    )


class _MarkerCache:
    """Edge markers evaluated once each for one environment (a lock repeats a few).

    uv's conflict markers test `extra` as a set of the selected extras and groups, by
    name (`conflict_names`): `extra == X` holds when X is selected, `extra != X` when it
    is not. One name the marker mentions (or none: `extra = ""`) gives exactly that; with
    several (two conflict sets each with a member selected), the marker holds if it holds
    for one of them.
    """

    def __init__(
        self, path: Path, marker_environment: Mapping[str, str], names: Sequence[str] = ()
    ) -> None:
        self.path = path
        self.environment = {**marker_environment, "extra": ""}
        self.names = names
        self.verdicts: dict[str, bool] = {}

    def __call__(self, text: str) -> bool:
        """RequirementsError naming the lock for a marker that cannot be evaluated here."""
        verdict = self.verdicts.get(text)
        if verdict is None:
            marker = parsed_marker(text)
            mentioned = [name for name in self.names if name in text] or [""]
            try:
                verdict = any(
                    evaluate_marker(marker, {**self.environment, "extra": name})
                    for name in mentioned
                )
            except MarkerError as exc:
                raise RequirementsError(f"{self.path}: {exc}") from exc
            self.verdicts[text] = verdict
        return verdict


# --- reading ----------------------------------------------------------------------------


def read_uv_lock(path: Path) -> UvLock:
    """Read and check a uv.lock; RequirementsError (one line naming the file) for anything
    uv itself would refuse to read: not TOML, an unknown version, a field of the wrong
    type, a dependency on a package the lock does not list."""
    path = Path(path)
    data = read_toml(path)
    check = Fields(path)
    _check_version(check, data)
    requires_python = check.optional_string(data, "requires-python", "")
    if requires_python is not None:
        try:
            specifier_set(requires_python)
        except InvalidSpecifier:
            check.fail("requires-python", "is not a valid version specifier")
    base_dir = path.parent.absolute()
    raw = [
        read_package(check, table, f"package[{index}]", base_dir)
        for index, table in enumerate(check.tables(data.get("package", []), "package"))
    ]
    resolve = Resolver(check, raw)
    nodes = [
        Node(
            package=LockedPackage(
                name=item.name,
                version=item.version,
                source=item.kind,
                location=item.location,
                marker=None,
            ),
            dependencies=resolve.edges(item.dependencies),
            extras={key: resolve.edges(edges) for key, edges in item.extras.items()},
            groups={key: resolve.edges(edges) for key, edges in item.groups.items()},
        )
        for item in raw
    ]
    manifest = check.table(data.get("manifest", {}), "manifest")
    root_groups = _manifest_groups(check, manifest, resolve)
    roots = _roots(check, nodes, manifest, base_dir)
    nodes = _with_memberships(nodes, roots, root_groups)
    groups = sorted({g for i in roots for g in nodes[i].groups} | set(root_groups))
    extras = sorted({f"extra:{e}" for i in roots for e in nodes[i].extras})
    defaults, defaults_from, warnings = _default_groups(path, groups)
    declared = _declared(path, (*groups, *extras))
    return UvLock(
        path=path,
        tool="uv",
        packages=tuple(node.package for node in nodes),
        groups=(*groups, *extras),
        default_groups=defaults,
        project_name=nodes[roots[0]].package.name,
        warnings=warnings,
        nodes=tuple(nodes),
        roots=roots,
        defaults_from=defaults_from,
        requires_python=requires_python,
        root_groups=root_groups,
        declared=declared,
    )


def _check_version(check: Fields, data: Mapping[str, object]) -> None:
    version = data.get("version")
    if version is None:
        check.fail("", "has no `version`: not a uv.lock uv wrote")
    if type(version) is not int:
        check.fail("version", "is not a number")
    if version != 1:
        raise RequirementsError(
            f"{check.path}: uv.lock version {version} is not one envdash reads (it reads "
            "version 1): lock again with the uv this project uses, or update envdash"
        )
    revision = data.get("revision", 0)
    if type(revision) is not int:
        check.fail("revision", "is not a number")


def _manifest_groups(
    check: Fields, manifest: Mapping[str, object], resolve: Resolver
) -> dict[NormalizedName, tuple[Edge, ...]]:
    """A virtual workspace root's own dependency groups (it is no package of the lock)."""
    where = "manifest.dependency-groups"
    groups: dict[NormalizedName, tuple[Edge, ...]] = {}
    for group, entries in check.table(manifest.get("dependency-groups", {}), where).items():
        tables = check.tables(entries, f"{where}.{group}")
        edges = [read_edge(check, item, f"{where}.{group}[{i}]") for i, item in enumerate(tables)]
        groups[canonicalize_name(group)] = resolve.edges(edges)
    return groups


def _roots(
    check: Fields, nodes: Sequence[Node], manifest: Mapping[str, object], base_dir: Path
) -> tuple[int, ...]:
    """The project at the lock's directory (what `uv sync` there installs), else the
    workspace members (a virtual workspace root has no project of its own)."""
    here = file_url(base_dir, ".")  # normalised as every location is (`../proj/uv.lock`)
    local = [
        index
        for index, node in enumerate(nodes)
        if node.package.source in ("editable", "virtual") and node.package.location == here
    ]
    if local:
        return tuple(local[:1])
    members = {
        canonicalize_name(name)
        for name in check.strings(manifest.get("members", []), "manifest.members")
    }
    found = tuple(i for i, node in enumerate(nodes) if node.package.name in members)
    if not found:
        check.fail("", "names no project: no package at `.` and no [manifest] members")
    return found


def _with_memberships(
    nodes: list[Node],
    roots: Sequence[int],
    root_groups: Mapping[NormalizedName, tuple[Edge, ...]],
) -> list[Node]:
    """Each package with the groups and extras that reach it (markers not evaluated)."""
    member_of: dict[int, set[str]] = {i: {"main"} for i in roots}

    def mark(start: Iterable[Edge], label: str) -> None:
        pending = [edge.target for edge in start]
        while pending:
            index = pending.pop()
            labels = member_of.setdefault(index, set())
            if label in labels:
                continue
            labels.add(label)
            node = nodes[index]
            pending += [edge.target for edge in node.dependencies]
            pending += [edge.target for edges in node.extras.values() for edge in edges]

    for root in roots:
        mark(nodes[root].dependencies, "main")
        for group, edges in nodes[root].groups.items():
            mark(edges, group)
        for extra, edges in nodes[root].extras.items():
            mark(edges, f"extra:{extra}")
    for group, edges in root_groups.items():
        mark(edges, group)
    return [
        Node(
            _replace_groups(node.package, sorted(member_of.get(index, ()))),
            node.dependencies,
            node.extras,
            node.groups,
        )
        for index, node in enumerate(nodes)
    ]


def _replace_groups(package: LockedPackage, groups: Sequence[str]) -> LockedPackage:
    return LockedPackage(
        package.name,
        package.version,
        package.source,
        package.location,
        package.marker,
        tuple(groups),
    )


def canonical_group(name: str) -> str:
    """A group (`Lint_Tools` is `lint-tools`) or `extra:NAME` as uv compares them."""
    if name.startswith("extra:"):
        return f"extra:{canonicalize_name(name[6:])}"
    return canonicalize_name(name)


def _declared(lock_path: Path, in_lock: Sequence[str]) -> frozenset[str] | None:
    """What `uv sync --group/--extra` accepts: the lock's groups and extras, and the
    pyproject.toml's beside it (an empty group or extra is in no lock edge); None when the
    pyproject.toml cannot be read (a link is not followed, as for the default groups)."""
    try:
        _text, data = read_project_toml(lock_path.parent / "pyproject.toml", follow_symlinks=False)
    except RequirementsError:
        return None
    names = {canonical_group(name) for name in in_lock}
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        names.update(canonicalize_name(key) for key in groups)
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    if isinstance(uv, dict) and "dev-dependencies" in uv:
        names.add("dev")
    project = data.get("project")
    optional = project.get("optional-dependencies") if isinstance(project, dict) else None
    if isinstance(optional, dict):
        names.update(f"extra:{canonicalize_name(key)}" for key in optional)
    return frozenset(names)


def _default_groups(
    lock_path: Path, groups: Sequence[str]
) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The groups `uv sync` installs (default groups, where they come from, warnings):
    `tool.uv.default-groups` of the pyproject.toml beside the lock, else `dev`. The
    pyproject.toml is read only if it is a file there, not a link to elsewhere."""
    pyproject = lock_path.parent / "pyproject.toml"
    try:
        _text, data = read_project_toml(pyproject, follow_symlinks=False)
    except RequirementsError as exc:
        defaults = tuple(group for group in _UV_DEFAULT_GROUPS if group in groups)
        return defaults, "uv sync's default", (f"{exc}; uv's default groups assumed",)
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    setting = uv.get("default-groups") if isinstance(uv, dict) else None
    if setting is None:
        return tuple(g for g in _UV_DEFAULT_GROUPS if g in groups), "uv sync's default", ()
    if setting == "all":
        return tuple(groups), "tool.uv.default-groups", ()
    if isinstance(setting, list) and all(isinstance(item, str) for item in setting):
        chosen = {canonicalize_name(item) for item in setting}
        return tuple(g for g in groups if g in chosen), "tool.uv.default-groups", ()
    warning = f"{pyproject}: tool.uv.default-groups is not a list of names; uv's default assumed"
    return tuple(g for g in _UV_DEFAULT_GROUPS if g in groups), "uv sync's default", (warning,)
