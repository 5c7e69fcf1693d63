"""The environment page's dependency tree ("why is this installed?"), drawn from the rows a
scan stored (each distribution's evaluated requirements): no filesystem walk here.

Each row's HTML is made here with `format_html` (every value escaped, control characters
shown as the `visible` filter shows them) rather than by the template: a 300-package tree
has ~1,500 rows, and the template engine spent ~0.5 ms on each."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from dashboard.http import HtmxHttpRequest
from dashboard.models import Distribution, Environment
from dashboard.text import mark_invisible
from envcore.tree import ANY, DependencyGraph
from envcore.treelines import TRUNCATED, TreeLine, tree_lines

__all__ = ["TreeRow", "environment_tree", "stored_graph", "tree_rows"]


def stored_graph(env: Environment) -> DependencyGraph:
    """The environment's graph, from its Distribution rows (envcore.tree's plain data)."""
    rows = Distribution.objects.filter(environment=env).values_list(
        "display_name", "version", "requires"
    )
    return DependencyGraph.from_plain(rows)


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One row of the page's tree: `detail` is pipdeptree's bracket (`required: >=1,
    installed: 1.2`), `shown` whether the filter keeps it."""

    key: str
    name: str
    version: str
    detail: str
    depth: int
    guide: str
    conflict: str
    repeated: bool
    cycle: bool
    truncated: bool = False
    shown: bool = True
    #: Nothing above it (a package nothing requires, in the reverse tree): no link to ask.
    top: bool = False

    def html(self, tree_url: str, *, why: str) -> SafeString:
        """The row's `<li>`: guide, name, pipdeptree's bracket, marks, and the link to what
        requires it (not on a start, nor for what is not installed)."""
        parts: list[str] = [
            format_html(
                '<li data-depth="{}" data-name="{} {}"{}{}>',
                self.depth,
                self.key,
                self.name.lower(),
                "" if self.shown else mark_safe(" hidden"),
                mark_safe(' class="attention"') if self.conflict else "",
            ),
            format_html(
                '<span class="tree-guide" aria-hidden="true">{}</span><strong>{}</strong> ',
                self.guide,
                mark_invisible(self.name),
            ),
        ]
        if self.detail:
            parts.append(
                format_html('<span class="mono muted">[{}]</span>', mark_invisible(self.detail))
            )
        else:
            parts.append(format_html('<span class="mono">{}</span>', mark_invisible(self.version)))
        parts.append(_MARKS.get(self.conflict, ""))
        if self.cycle:
            parts.append(_CYCLE)
        elif self.repeated:
            parts.append(_REPEATED)
        if self.truncated:
            parts.append(_TRUNCATED)
        if self.depth and not self.top and self.version != "?" and self.key != why:
            parts.append(
                format_html(
                    ' <a class="tree-why" href="{}?why={}">what requires it'
                    '<span class="sr-only"> ({})</span></a>',
                    tree_url,
                    quote(self.key),
                    mark_invisible(self.name),
                )
            )
        parts.append("</li>\n")
        return mark_safe("".join(parts))  # noqa: S308 - each part is format_html's


_MARKS = {
    "missing": ' <span class="badge badge--missing">not installed</span>',
    "unsatisfied": ' <span class="badge badge--mismatch">not satisfied</span>',
}
_CYCLE = (
    ' <span class="badge badge--unpinned" title="it requires a package above it: the cycle '
    'is cut here">cycle</span>'
)
_REPEATED = ' <span class="muted" title="already shown above">(*)</span>'
_TRUNCATED = format_html(' <span class="muted">{}</span>', TRUNCATED)


def _row(line: TreeLine, *, reverse: bool) -> TreeRow:
    node, parent = line.node, line.parent
    version = node.version if node.version is not None else "?"
    detail = ""
    if parent is not None:
        extra = f", extra: {node.extra}" if node.extra else ""
        if reverse:
            required = "" if node.required == ANY else node.required
            detail = f"requires: {parent.name}{required}{extra}"
        else:
            detail = f"required: {node.required}, installed: {version}{extra}"
    return TreeRow(
        node.key,
        node.name,
        version,
        detail,
        line.depth,
        line.guide,
        node.conflict or "",
        node.repeated,
        node.cycle,
        node.truncated,
        top=reverse and not node.children and not node.repeated and not node.truncated,
    )


def tree_rows(graph: DependencyGraph, *, why: str = "", query: str = "") -> list[TreeRow]:
    """The forward tree, or what requires `why`; `query` keeps the rows whose name holds it
    and the rows on their paths from the top (static/js/tree.js does the same as you type)."""
    nodes = graph.reverse([why]) if why else graph.tree()
    rows = [_row(line, reverse=bool(why)) for line in tree_lines(nodes)]
    needle = query.strip().lower()
    if not needle:
        return rows
    keep: set[int] = set()
    path: list[int] = []
    for index, row in enumerate(rows):
        del path[row.depth :]
        path.append(index)
        if needle in row.name.lower() or needle in row.key:
            keep.update(path)
    return [replace(row, shown=index in keep) for index, row in enumerate(rows)]


@require_GET
def environment_tree(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The tree (or `?why=NAME`: what requires NAME), as a page or as the fragment the
    environment page's "Dependency tree" section loads when opened."""
    env = get_object_or_404(Environment, pk=pk)
    graph = stored_graph(env)
    why = request.GET.get("why", "").strip()[:200]
    if why and not graph.known(why):
        why = ""
    query = request.GET.get("q", "")[:100]
    rows = tree_rows(graph, why=why, query=query)
    tree_url = reverse("environment-tree", args=[env.pk])
    context = {
        "env": env,
        "rows_html": mark_safe("".join(row.html(tree_url, why=why) for row in rows)),  # noqa: S308
        "row_count": len(rows),
        "why": why,
        "why_name": rows[0].name if why and rows else why,
        "q": query,
        "shown": sum(row.shown for row in rows),
        "conflicts": len(graph.conflicts()),
        "cycles": [
            " → ".join(graph.packages[key].name for key in cycle) for cycle in graph.cycles()
        ],
    }
    if request.htmx:
        # The fragment lives inside the environment page: its URL is never the page's own
        # (the rows' links are boosted, and htmx would push theirs into the history).
        return push_url(render(request, "dashboard/tree.html#dependency-tree", context), False)
    return render(request, "dashboard/tree.html", context)
