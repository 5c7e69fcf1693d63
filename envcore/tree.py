"""Why is this installed? An environment's dependency tree (and its reverse), from the
installed metadata, with markers evaluated for that environment's own interpreter.

The tree is pipdeptree's (`pipdeptree --json-tree`, the oracle in the tests): the roots are
the distributions no other installed distribution requires; each node carries the
requirement's specifier on the edge that led to it ("Any" when there is none, clauses in
pipdeptree's order) and the installed version; a requirement naming extras (`b[fast]`)
also brings in what `b` requires under those extras, as pip installs it; a package with
something below it is expanded once per tree and marked `repeated` where it occurs again
(`cycle` too when it is on its own path). Where this tree differs from pipdeptree 4.2's: a
requirement not installed or not satisfied is marked (`conflict`); packages that only
require each other in a cycle nothing else reaches are roots (pipdeptree leaves them out);
an extra asking for the package's own other extras (`b[all]` → `b[one,two]`) brings in
what those require, as pip resolves it (pipdeptree draws `b` under itself).

Two inputs, one tree: `requirements_of(inventory)` evaluates every distribution's
Requires-Dist for the environment (what the dashboard stores at scan time, as plain
JSON), and `DependencyGraph` is built from that plain data, so the command line and the
dashboard draw the same tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, NamedTuple

from envcore._edges import ANY, Dependency, canonical, first_of_each, requirements_of

if TYPE_CHECKING:
    from envcore.distributions import Inventory

__all__ = [
    "ANY",
    "MAX_DEPTH",
    "Conflict",
    "Dependency",
    "DependencyGraph",
    "Node",
    "Package",
    "requirements_of",
]

#: The deepest a tree is drawn: real ones are a few levels deep, and a chain of thousands of
#: packages written to a disk must not exhaust the recursion of drawing, JSON and templates.
MAX_DEPTH = 100
#: `missing`: required but not installed; `unsatisfied`: installed at a version the
#: requirement does not allow (pre-releases allowed, as `pip check` judges).
Conflict = Literal["missing", "unsatisfied"]


@dataclass(frozen=True, slots=True)
class Package:
    """An installed distribution and the dependencies that apply to the environment."""

    name: str
    version: str
    dependencies: tuple[Dependency, ...] = ()
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", canonical(self.name))


class Node(NamedTuple):
    """One line of the tree: a package reached through one requirement (a named tuple:
    a tree has thousands, and a frozen dataclass is several times slower to make).

    `version` is None when the package is not installed. `required` is the edge's
    specifier ("Any" without one; a root shows its own version, as pipdeptree does).
    `repeated`: its subtree is already shown above in this tree (pipdeptree's and uv's
    `(*)`), so its children are left out; `cycle`: it is even on the path from the root.
    `truncated`: it requires more, but it is MAX_DEPTH levels down and the tree stops
    there (not for a depth the caller asked for: that cut is the caller's own).
    """

    key: str
    name: str
    version: str | None
    required: str
    extra: str = ""
    conflict: Conflict | None = None
    repeated: bool = False
    cycle: bool = False
    children: tuple[Node, ...] = ()
    truncated: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "key": self.key,
            "version": self.version,
            "required": self.required,
            "extra": self.extra or None,
            "conflict": self.conflict,
            "repeated": self.repeated,
            "cycle": self.cycle,
            "truncated": self.truncated,
            "children": [child.to_json() for child in self.children],
        }


class DependencyGraph:
    """The installed packages and their requirements, drawn as trees."""

    def __init__(self, packages: Iterable[Package]) -> None:
        self.packages: dict[str, Package] = {}
        for package in packages:
            self.packages.setdefault(package.key, package)
        # A tree repeats the same edges many times over: each is worked out once.
        self._requirements: dict[tuple[str, frozenset[str]], list[Dependency]] = {}
        self._conflicts: dict[Dependency, Conflict | None] = {}

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> DependencyGraph:
        requirements = requirements_of(inventory)
        return cls(
            Package(dist.name, dist.version, requirements[key])
            for key, dist in first_of_each(inventory)
        )

    @classmethod
    def from_plain(
        cls, rows: Iterable[tuple[str, str, Sequence[Sequence[object]]]]
    ) -> DependencyGraph:
        """From stored rows: (name, version, [Dependency.to_json(), ...]) each."""
        return cls(
            Package(name, version, tuple(Dependency.from_json(dep) for dep in deps))
            for name, version, deps in rows
        )

    # --- edges ---------------------------------------------------------------------

    def requirements(self, key: str, extras: Iterable[str] = ()) -> list[Dependency]:
        """What `key` requires when installed with `extras`, by dependency name.

        An extra that asks for the package's own other extras (`b[all]` → `b[fast,slow]`)
        brings those in too, as pip resolves it; such self-references are not children.
        """
        asked = frozenset(extras)
        cached = self._requirements.get((key, asked))
        if cached is None:
            cached = self._requirements[key, asked] = self._requirements_with(key, asked)
        return cached

    def _requirements_with(self, key: str, extras: frozenset[str]) -> list[Dependency]:
        package = self.packages.get(key)
        if package is None:
            return []
        wanted = self._with_own_extras(package, extras)
        chosen = [
            dep
            for dep in package.dependencies
            if (not dep.extra or dep.extra in wanted) and not (dep.extra and dep.key == key)
        ]
        return sorted(chosen, key=lambda dep: dep.key)

    @staticmethod
    def _with_own_extras(package: Package, extras: Iterable[str]) -> set[str]:
        """`extras` and the package's own extras they ask for, to a fixed point."""
        wanted = {canonical(extra) for extra in extras}
        pending = list(wanted)
        while pending:
            extra = pending.pop()
            for dep in package.dependencies:
                if dep.extra == extra and dep.key == package.key:
                    for more in map(canonical, dep.extras):
                        if more not in wanted:
                            wanted.add(more)
                            pending.append(more)
        return wanted

    @cached_property
    def active_extras(self) -> dict[str, frozenset[str]]:
        """For each package, the extras some installed package asks of it (to a fixed point:
        an extra's own requirements can ask for more)."""
        active: dict[str, set[str]] = {key: set() for key in self.packages}
        changed = True
        while changed:
            changed = False
            for key in self.packages:
                for dep in self.requirements(key, active[key]):
                    if dep.extras and dep.key in active:
                        asked = self._with_own_extras(self.packages[dep.key], dep.extras)
                        new = asked - active[dep.key]
                        if new:
                            active[dep.key] |= new
                            changed = True
        return {key: frozenset(extras) for key, extras in active.items()}

    @cached_property
    def dependents(self) -> dict[str, list[tuple[str, Dependency]]]:
        """For each name, the installed packages requiring it and through which requirement
        (their extras that some installed package asks for included; a package requiring
        itself is among its own dependents, as pipdeptree shows it)."""
        found: dict[str, list[tuple[str, Dependency]]] = {}
        for key in self.packages:
            for dep in self.requirements(key, self.active_extras[key]):
                found.setdefault(dep.key, []).append((key, dep))
        return found

    def conflict(self, dep: Dependency) -> Conflict | None:
        """Whether the installed version fails `dep` (as `pip check` judges)."""
        if dep not in self._conflicts:
            self._conflicts[dep] = self._conflict(dep)
        return self._conflicts[dep]

    def _conflict(self, dep: Dependency) -> Conflict | None:
        package = self.packages.get(dep.key)
        if package is None:
            return "missing"
        if dep.required == ANY:
            return None
        from envcore.versions import parse_specifier, parse_version, satisfies

        specifier = parse_specifier(dep.required)
        if specifier is None or parse_version(package.version) is None:
            return None  # pip check cannot judge these either
        return None if satisfies(specifier, package.version) else "unsatisfied"

    # --- trees ---------------------------------------------------------------------

    def roots(self) -> list[str]:
        """The packages no other package requires, then, for each cycle nothing else
        reaches, its first member by name (pipdeptree shows no such cycle at all)."""
        dependents = self.dependents
        roots = sorted(
            key
            for key in self.packages
            if all(parent == key for parent, _ in dependents.get(key, ()))
        )
        reached: set[str] = set()
        for key in roots:
            self._reach(key, reached)
        for key in sorted(self.packages):
            if key not in reached:
                roots.append(key)
                self._reach(key, reached)
        return roots

    def _reach(self, start: str, reached: set[str]) -> None:
        pending = [start]
        while pending:
            key = pending.pop()
            if key in reached or key not in self.packages:
                continue
            reached.add(key)
            pending.extend(dep.key for dep in self.requirements(key, self.active_extras[key]))

    def tree(self, packages: Sequence[str] = (), *, depth: int | None = None) -> list[Node]:
        """The forward tree from the roots, or from the named packages."""
        starts = self._starts(packages) if packages else self.roots()
        return [self._start_node(key, depth, reverse=False) for key in starts]

    def reverse(self, packages: Sequence[str] = (), *, depth: int | None = None) -> list[Node]:
        """What requires each package, up to the roots: from the named packages, or (as
        `pipdeptree --reverse`) from every package that requires nothing."""
        if packages:
            starts = self._starts(packages)
        else:
            starts = sorted(
                {
                    key
                    for key in self.packages
                    if not self.requirements(key, self.active_extras[key])
                }
                | {key for key in self.dependents if key not in self.packages}
            )
        return [self._start_node(key, depth, reverse=True) for key in starts]

    def _start_node(self, key: str, depth: int | None, *, reverse: bool) -> Node:
        package = self.packages.get(key)
        version = package.version if package is not None else None
        name = package.name if package is not None else self._missing_name(key)
        walk = _Walk(self, depth, reverse=reverse, shown={key})
        return Node(key, name, version, version or "?", children=walk.below(key, (), (key,)))

    def _missing_name(self, key: str) -> str:
        """A name nothing installed carries: as the first requirement on it spells it."""
        return next((dep.name for _, dep in self.dependents.get(key, ())), key)

    def known(self, name: str) -> bool:
        """Whether `name` is installed or at least required by something installed."""
        key = canonical(name)
        return key in self.packages or key in self.dependents

    def _starts(self, names: Sequence[str]) -> list[str]:
        keys: list[str] = []
        for key in map(canonical, names):
            if (key in self.packages or key in self.dependents) and key not in keys:
                keys.append(key)
        return keys

    def conflicts(self) -> list[tuple[Package, Dependency, Conflict]]:
        """Every requirement the installed versions fail, by requiring package."""
        found = []
        for key in sorted(self.packages):
            for dep in self.requirements(key, self.active_extras[key]):
                conflict = self.conflict(dep)
                if conflict is not None:
                    found.append((self.packages[key], dep, conflict))
        return found

    def cycles(self) -> list[tuple[str, ...]]:
        """One shortest cycle through each package on one (`a => b => a`, as pipdeptree
        warns), a package in several cycles named in the first by name only."""
        following = {
            key: sorted({dep.key for dep in self.requirements(key, self.active_extras[key])})
            for key in self.packages
        }
        found: list[tuple[str, ...]] = []
        seen: set[str] = set()
        for start in sorted(self._on_cycles(following)):
            if start in seen:
                continue
            came_from: dict[str, str] = {}
            pending = [start]
            while pending and start not in came_from:
                key = pending.pop(0)
                for other in following.get(key, ()):
                    if other not in came_from:
                        came_from[other] = key
                        pending.append(other)
            if start in came_from:
                path = [start]
                while len(path) == 1 or path[-1] != start:
                    path.append(came_from[path[-1]])
                cycle = tuple(reversed(path))
                seen.update(cycle)
                found.append(cycle)
        return found

    def _on_cycles(self, following: dict[str, list[str]]) -> set[str]:
        """Packages that can both reach and be reached from a cycle: what is left after
        pruning, as a topological sort does (linear time), what requires nothing left and
        what nothing left requires."""
        preceding: dict[str, list[str]] = {key: [] for key in following}
        for key, others in following.items():
            for other in others:
                if other in preceding:
                    preceding[other].append(key)
        left = set(following)
        for ahead, behind in ((following, preceding), (preceding, following)):
            count = {key: sum(o in left for o in ahead[key]) for key in left}
            pending = [key for key, number in count.items() if number == 0]
            while pending:
                key = pending.pop()
                left.discard(key)
                for other in behind[key]:
                    if other in left:
                        count[other] -= 1
                        if count[other] == 0:
                            pending.append(other)
        return left


class _Walk:
    """One tree drawn depth-first, remembering what it has shown: a package with something
    below it is expanded once per tree, as pipdeptree and `uv tree` do (a tree would
    otherwise grow exponentially with shared dependencies)."""

    def __init__(
        self, graph: DependencyGraph, depth: int | None, *, reverse: bool, shown: set[str]
    ) -> None:
        self.graph = graph
        self.reverse = reverse
        self.shown = shown
        self.limit = MAX_DEPTH if depth is None else min(depth, MAX_DEPTH)
        #: Whether a node at the limit is cut by MAX_DEPTH (marked) or by the caller's depth.
        self.capped = depth is None or depth > MAX_DEPTH

    def edges(self, key: str, extras: Sequence[str]) -> list[tuple[str, Dependency]]:
        """(the next package, the requirement between them), by the next package's name."""
        graph = self.graph
        if self.reverse:
            return sorted(graph.dependents.get(key, ()), key=lambda item: item[0])
        return [(dep.key, dep) for dep in graph.requirements(key, extras)]

    def below(self, key: str, extras: Sequence[str], path: tuple[str, ...]) -> tuple[Node, ...]:
        if len(path) > self.limit:
            return ()
        graph = self.graph
        nodes = []
        for other, dep in self.edges(key, extras):
            package = graph.packages.get(other)
            name = package.name if package is not None else dep.name
            version = package.version if package is not None else None
            asked = () if self.reverse else dep.extras
            fields = (other, name, version, dep.required, dep.extra, graph.conflict(dep))
            if other in self.shown and self.edges(other, asked):
                nodes.append(Node(*fields, repeated=True, cycle=other in path))
                continue
            if self.capped and len(path) >= MAX_DEPTH and self.edges(other, asked):
                # Not remembered as shown: where it occurs higher up, it is drawn there.
                nodes.append(Node(*fields, truncated=True))
                continue
            self.shown.add(other)
            nodes.append(Node(*fields, children=self.below(other, asked, (*path, other))))
        return tuple(nodes)
