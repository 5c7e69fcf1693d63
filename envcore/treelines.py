"""The tree as lines, as pipdeptree prints it: the command line prints them, the
environment page shows them as rows (with the same guides) that a filter can narrow."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from envcore.text import mark_invisible
from envcore.tree import ANY, MAX_DEPTH, Node

__all__ = ["TRUNCATED", "TreeLine", "label", "tree_lines"]

#: After a node the depth limit cut (`Node.truncated`): the tree goes on below it.
TRUNCATED = f"… deeper levels not shown (depth limit {MAX_DEPTH})"


@dataclass(frozen=True, slots=True)
class TreeLine:
    """One node and where it is: `guide` is the drawing before it (`│   ├── `), `depth`
    0 for a start, `parent` the node above it (None for a start)."""

    node: Node
    parent: Node | None
    depth: int
    guide: str


def tree_lines(nodes: Sequence[Node]) -> Iterator[TreeLine]:
    """Every node, depth first, each start followed by what is below it."""
    for node in nodes:
        yield TreeLine(node, None, 0, "")
        yield from _below(node, "", 1)


def _below(parent: Node, prefix: str, depth: int) -> Iterator[TreeLine]:
    last_index = len(parent.children) - 1
    for index, node in enumerate(parent.children):
        last = index == last_index
        yield TreeLine(node, parent, depth, prefix + ("└── " if last else "├── "))
        if node.children:
            yield from _below(node, prefix + ("    " if last else "│   "), depth + 1)


def label(line: TreeLine, *, reverse: bool) -> str:
    """pipdeptree's text for the line (`name [required: >=1, installed: 1.2]`, a start as
    `name==1.2`, reversed `name==1.2 [requires: dep>=1]`), plus the conflict it leaves to
    its warnings, and where the depth limit cut the tree; control and bidi characters
    from the metadata shown as ⟨U+XXXX⟩, so a line stays one line."""
    return mark_invisible(_label(line, reverse=reverse))


def _label(line: TreeLine, *, reverse: bool) -> str:
    node, parent = line.node, line.parent
    installed = node.version if node.version is not None else "?"
    if parent is None:
        return f"{node.name}=={installed}"
    extra = f", extra: {node.extra}" if node.extra else ""
    if reverse:
        required = "" if node.required == ANY else node.required
        text = f"{node.name}=={installed} [requires: {parent.name}{required}{extra}]"
    else:
        text = f"{node.name} [required: {node.required}, installed: {installed}{extra}]"
    if node.conflict:
        text += f" ({node.conflict})"
    if node.repeated:
        text += " (*)"
    if node.truncated:
        text += f" {TRUNCATED}"
    return text
