"""The dependency tree must be pipdeptree's (the oracle) for the same real environments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.tree import MAX_DEPTH, Dependency, DependencyGraph, Node, Package, requirements_of
from tests.envcore.synthetic import conda_env, dist_info, windows_venv
from tests.envtools import built_once, make_venv, pip
from tests.wheelmaker import write_wheel

PIPDEPTREE = str(Path(sys.executable).parent / "pipdeptree")
#: Specifiers whose clauses pipdeptree orders by version, then operator.
SPECIFIERS = [
    "<2,>=1.0,!=0.5",
    "==1.*",
    "~=1.4,!=1.4.2",
    ">1,<=2,!=1.5",
    "<=3,>=3",
    ">=1.0a1,<1.0",
    ">=1.10,<1.9",
    "!=2,!=1",
    "===1.5",
    # Versions as metadata may spell them: pipdeptree shows them normalised (`>=2023.3.6`).
    ">=2023.03.6",
    ">=01.0,~=1.0.0",
    "==1.05.*",
    ">=1.0.A1",
]


def _build_tangled(base: Path) -> Path:
    """Extras asked and not asked, markers false here, a missing dependency, a version
    conflict, cycles (one nothing else reaches), a self-requirement, names spelt apart."""
    wheels = base / "wheels"
    write_wheel(
        wheels,
        "App",
        "1.0",
        requires=[
            "lib>=1.0",
            "lib2[fast]<3,>=1",
            "gone>=1",
            'winonly; sys_platform == "win32"',
            'oldpython; python_version < "3"',
            "old>=2",
            "Foo_Bar",
            "paren (>=0.5)",
            "selfref",
            "pre>=1.0",
            *(f"spec{index}{spec}" for index, spec in enumerate(SPECIFIERS)),
        ],
        extras={"docs": ["docpkg"]},
    )
    write_wheel(wheels, "lib", "1.2.0", requires=["Foo-Bar>=0.1", "tiny!=1.5,>=1.0,<2"])
    write_wheel(wheels, "lib2", "2.0", extras={"fast": ["speedy>=1"], "slow": ["sloth"]})
    for index in range(len(SPECIFIERS)):
        write_wheel(wheels, f"spec{index}", "1.5")
    for name, version in [
        ("speedy", "1.0"),
        ("sloth", "1.0"),
        ("old", "1.0"),
        ("foo_bar", "0.3"),
        ("paren", "0.6"),
        ("docpkg", "1.0"),
        ("tiny", "1.4"),
        ("pre", "1.1rc1"),
    ]:
        write_wheel(wheels, name, version)
    write_wheel(wheels, "selfref", "1.0", requires=["selfref", "cyc-a"])
    write_wheel(wheels, "cyc-a", "1.0", requires=["cyc-b"])
    write_wheel(wheels, "cyc-b", "1.0", requires=["cyc-a>=1"])
    write_wheel(wheels, "loop-x", "1.0", requires=["loop-y"])
    write_wheel(wheels, "loop-y", "1.0", requires=["loop-x"])
    env = make_venv(base / "env")
    names = [path.name.split("-")[0] for path in wheels.iterdir()]
    pip("install", "--no-index", "--no-deps", "-q", "-f", str(wheels), *names, env=env)
    return env


@pytest.fixture(scope="session")
def tangled_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_once(tmp_path_factory, "tree-tangled", _build_tangled)


@pytest.fixture(scope="session")
def plain_env(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The shared wheelhouse's packages, installed with their dependencies by pip."""
    return built_once(
        tmp_path_factory,
        "tree-plain",
        lambda base: make_venv(base / "env", ["beta==1.0", "Delta_Pkg.Two"], wheelhouse=wheelhouse),
    )


def pipdeptree(env: Path, *args: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [PIPDEPTREE, "--json-tree", "--python", str(env / "bin" / "python"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    tree: list[dict[str, Any]] = json.loads(result.stdout)
    return tree


def theirs(node: dict[str, Any]) -> tuple[object, ...]:
    """pipdeptree's node: name, version ("?" when missing), required spec, extra, children."""
    return (
        node["package_name"],
        node["installed_version"],
        node["required_version"],
        node.get("extra", ""),
        node.get("repeated", False),
        tuple(theirs(child) for child in node["dependencies"]),
    )


def ours(node: Node) -> tuple[object, ...]:
    return (
        node.name,
        node.version if node.version is not None else "?",
        node.required,
        node.extra,
        node.repeated,
        tuple(ours(child) for child in node.children),
    )


def graph_of(env: Path) -> DependencyGraph:
    return DependencyGraph.from_inventory(read_inventory(inspect_environment(env)))


def only_cycle_roots(graph: DependencyGraph, extra_roots: list[Node]) -> bool:
    """Our roots beyond pipdeptree's are documented: packages in a cycle nothing reaches."""
    return all(
        node.key in graph.dependents and any(child.cycle for child in _walk(node))
        for node in extra_roots
    )


def _walk(node: Node) -> list[Node]:
    return [node] + [n for child in node.children for n in _walk(child)]


@pytest.mark.parametrize("fixture", ["tangled_env", "plain_env"])
def test_tree_is_pipdeptrees_json_tree(fixture: str, request: pytest.FixtureRequest) -> None:
    env: Path = request.getfixturevalue(fixture)
    graph = graph_of(env)
    expected = [theirs(node) for node in pipdeptree(env)]
    tree = graph.tree()
    shown = [node for node in tree if ours(node) in expected]
    assert [ours(node) for node in shown] == expected
    assert only_cycle_roots(graph, [node for node in tree if node not in shown])


def reverse_ours(node: Node) -> tuple[object, ...]:
    """pipdeptree's reverse JSON leaves out the extra an edge comes under (its reverse text
    shows it: `test_cli_reverse_text_is_pipdeptrees`)."""
    return (*ours(node)[:3], "", node.repeated, tuple(reverse_ours(c) for c in node.children))


@pytest.mark.parametrize("fixture", ["tangled_env", "plain_env"])
def test_reverse_tree_is_pipdeptrees_reverse(fixture: str, request: pytest.FixtureRequest) -> None:
    env: Path = request.getfixturevalue(fixture)
    assert [reverse_ours(node) for node in graph_of(env).reverse()] == [
        theirs(node) for node in pipdeptree(env, "--reverse")
    ]


@pytest.mark.parametrize("package", ["foo-bar", "tiny", "speedy", "gone", "cyc-a", "spec3"])
def test_reverse_tree_of_one_package_is_pipdeptrees(tangled_env: Path, package: str) -> None:
    """pipdeptree -r -p of a package in a cycle also prints other trees beside it: the one
    that starts at the package is compared."""
    (node,) = graph_of(tangled_env).reverse([package])
    trees = pipdeptree(tangled_env, "--reverse", "--packages", package)
    assert [reverse_ours(node)] == [theirs(t) for t in trees if t["key"] == node.key]


def test_tangled_tree_has_what_the_env_was_built_with(tangled_env: Path) -> None:
    graph = graph_of(tangled_env)
    roots = {node.key: node for node in graph.tree()}
    # docpkg and sloth: only required under extras nothing asks for
    assert sorted(roots) == ["app", "docpkg", "loop-x", "sloth"]
    app = {child.key: child for child in roots["app"].children}
    assert "winonly" not in app and "oldpython" not in app
    assert (app["gone"].version, app["gone"].conflict) == (None, "missing")
    assert (app["old"].required, app["old"].conflict) == (">=2", "unsatisfied")
    assert app["pre"].conflict is None  # 1.1rc1 satisfies >=1.0: pip check allows pre-releases
    assert app["lib2"].required == ">=1,<3"
    assert [(c.key, c.extra) for c in app["lib2"].children] == [("speedy", "fast")]
    lib = {child.key: child for child in app["lib"].children}
    assert lib["tiny"].required == ">=1.0,!=1.5,<2"
    # the same eight as pipdeptree's warning (1.5 is outside specs 3-6, >=2023.3.6 and
    # ~=1.0.0; names sort as text)
    assert [(p.name, d.name, c) for p, d, c in graph.conflicts()] == [
        ("App", "gone", "missing"),
        ("App", "old", "unsatisfied"),
        *(("App", f"spec{index}", "unsatisfied") for index in (10, 3, 4, 5, 6, 9)),
    ]


def test_an_extra_asking_for_other_extras_brings_in_theirs_as_pip_resolves_it(
    tmp_path: Path,
) -> None:
    """`bundle[all]` → `bundle[one,two]`: pip installs tiny and sloth for it (pipdeptree 4.2
    shows bundle under itself as a cycle instead, and neither of them)."""
    from tests.envcore.synthetic import posix_venv

    site = posix_venv(tmp_path / "env")
    dist_info(site, "app", "1.0", "bundle[all]")
    dist_info(
        site,
        "bundle",
        "3.0",
        'bundle[one,two]; extra == "all"',
        'tiny; extra == "one"',
        'sloth~=1.0; extra == "two"',
        'unused; extra == "three"',
    )
    dist_info(site, "tiny", "1.4")
    dist_info(site, "sloth", "1.0")
    graph = graph_of(tmp_path / "env")
    (app,) = graph.tree()
    (bundle,) = app.children
    assert [(c.key, c.required, c.extra) for c in bundle.children] == [
        ("sloth", "~=1.0", "two"),
        ("tiny", "Any", "one"),
    ]
    assert graph.active_extras["bundle"] == frozenset({"all", "one", "two"})
    assert [n.key for n in graph.reverse(["tiny"])[0].children] == ["bundle"]


def test_cycles_are_listed_as_pipdeptree_warns(tangled_env: Path) -> None:
    assert graph_of(tangled_env).cycles() == [
        ("cyc-a", "cyc-b", "cyc-a"),
        ("loop-x", "loop-y", "loop-x"),
        ("selfref", "selfref"),
    ]
    result = envcore_tree(str(tangled_env))
    assert "* loop-x => loop-y => loop-x\n* selfref => selfref\n" in result.stderr


def test_depth_limits_the_levels_below_each_root(tangled_env: Path) -> None:
    graph = graph_of(tangled_env)
    assert all(not node.children for node in graph.tree(depth=0))
    app = graph.tree(["app"], depth=1)[0]
    assert app.children and all(not child.children for child in app.children)


def test_a_chain_deeper_than_max_depth_is_cut_there_not_a_crash(tmp_path: Path) -> None:
    """A hostile disk: 1,500 packages each requiring the next."""
    from tests.envcore.synthetic import posix_venv

    site = posix_venv(tmp_path / "env")
    for index in range(1500):
        dist_info(site, f"p{index}", "1.0", *([f"p{index + 1}"] if index < 1499 else []))
    graph = graph_of(tmp_path / "env")
    (root,) = graph.tree()
    depth = 0
    while root.children:
        (root,) = root.children
        depth += 1
    assert depth == MAX_DEPTH
    assert len(json.dumps([node.to_json() for node in graph.reverse(["p1499"])])) > 0
    result = envcore_tree(str(tmp_path / "env"), "--json")
    assert result.returncode == 0, result.stderr


def deepest(nodes: list[Any]) -> tuple[int, Any]:
    """(levels below the start, the last node) of a chain, in JSON form."""
    (node,) = nodes
    depth = 0
    while node["children"]:
        (node,) = node["children"]
        depth += 1
    return depth, node


def test_where_max_depth_cuts_a_branch_it_says_so(tmp_path: Path) -> None:
    """The chain goes on below the cut: the text, JSON and the reverse tree tell it."""
    from tests.envcore.synthetic import posix_venv

    site = posix_venv(tmp_path / "env")
    for index in range(150):
        dist_info(site, f"p{index}", "1.0", *([f"p{index + 1}"] if index < 149 else []))
    env = str(tmp_path / "env")
    lines = envcore_tree(env).stdout.splitlines()
    assert len(lines) == MAX_DEPTH + 1
    assert lines[-1].endswith(
        "└── p100 [required: Any, installed: 1.0] … deeper levels not shown (depth limit 100)"
    )
    assert not any("deeper levels" in line for line in lines[:-1])
    depth, cut = deepest(json.loads(envcore_tree(env, "--json").stdout))
    assert (depth, cut["key"], cut["truncated"], cut["children"]) == (MAX_DEPTH, "p100", True, [])
    depth, cut = deepest(json.loads(envcore_tree(env, "--json", "-r", "-p", "p149").stdout))
    assert (depth, cut["key"], cut["truncated"]) == (MAX_DEPTH, "p49", True)
    # The last package of the chain requires nothing: a full 100 levels is no cut.
    depth, end = deepest(json.loads(envcore_tree(env, "--json", "-p", "p49").stdout))
    assert (depth, end["key"], end["truncated"]) == (MAX_DEPTH, "p149", False)


def test_a_depth_asked_for_is_not_marked_as_cut(tmp_path: Path) -> None:
    from tests.envcore.synthetic import posix_venv

    site = posix_venv(tmp_path / "env")
    for index in range(150):
        dist_info(site, f"p{index}", "1.0", *([f"p{index + 1}"] if index < 149 else []))
    env = str(tmp_path / "env")
    depth, last = deepest(json.loads(envcore_tree(env, "--json", "-d", "3").stdout))
    assert (depth, last["key"], last["truncated"]) == (3, "p3", False)
    assert "deeper levels" not in envcore_tree(env, "-d", "3").stdout
    depth, cut = deepest(json.loads(envcore_tree(env, "--json", "-d", "120").stdout))
    assert (depth, cut["key"], cut["truncated"]) == (MAX_DEPTH, "p100", True)


def test_a_package_cut_deep_down_is_drawn_where_it_occurs_higher(tmp_path: Path) -> None:
    """Not `(*)` ("already shown above") where its subtree was never shown."""
    from tests.envcore.synthetic import posix_venv

    site = posix_venv(tmp_path / "env")
    dist_info(site, "app", "1.0", "a0", "z-shallow")
    for index in range(MAX_DEPTH - 1):  # a0 is level 1, a98 level 99: `deep` at the limit
        dist_info(site, f"a{index}", "1.0", f"a{index + 1}" if index < MAX_DEPTH - 2 else "deep")
    dist_info(site, "z-shallow", "1.0", "deep")
    dist_info(site, "deep", "1.0", "leaf")
    dist_info(site, "leaf", "1.0")
    (app,) = graph_of(tmp_path / "env").tree(["app"])
    chain, shallow = app.children
    while chain.children:
        (chain,) = chain.children
    assert (chain.key, chain.truncated, chain.repeated) == ("deep", True, False)
    (deep,) = shallow.children
    assert (deep.key, deep.truncated, deep.repeated) == ("deep", False, False)
    assert [child.key for child in deep.children] == ["leaf"]


def test_markers_are_evaluated_for_the_environments_own_python(tmp_path: Path) -> None:
    """A Windows venv and a Python 3.10 conda env, read from this Linux 3.11 process."""
    site = windows_venv(tmp_path / "win")
    dist_info(site, "app", "1.0", 'winonly; sys_platform == "win32"', 'posix; os_name == "posix"')
    dist_info(site, "winonly", "1.0")
    site = conda_env(tmp_path / "conda", "3.10.14")
    dist_info(site, "app", "1.0", 'backport; python_version < "3.11"')
    win = graph_of(tmp_path / "win").tree(["app"])[0]
    assert [(c.key, c.conflict) for c in win.children] == [("winonly", None)]
    conda = graph_of(tmp_path / "conda").tree(["app"])[0]
    assert [(c.key, c.conflict) for c in conda.children] == [("backport", "missing")]


def plain_graph(*packages: tuple[str, str, list[list[object]]]) -> DependencyGraph:
    return DependencyGraph.from_plain(packages)


def test_plain_rows_make_the_same_graph_as_the_inventory(tangled_env: Path) -> None:
    inventory = read_inventory(inspect_environment(tangled_env))
    requirements = requirements_of(inventory)
    rows = [
        (dist.name, dist.version, [dep.to_json() for dep in requirements[dist.canonical_name]])
        for dist in inventory.distributions
    ]
    assert json.loads(json.dumps(rows)) == [list(row) for row in rows]  # plain JSON
    assert (
        DependencyGraph.from_plain(rows).tree() == DependencyGraph.from_inventory(inventory).tree()
    )


def test_a_cycle_is_cut_and_marked_where_it_closes() -> None:
    graph = plain_graph(
        ("a", "1", [["b", "Any", [], ""]]),
        ("b", "1", [["c", ">=1", [], ""]]),
        ("c", "1", [["a", "Any", [], ""]]),
    )
    (root,) = graph.tree()
    assert ours(root) == (
        "a",
        "1",
        "1",
        "",
        False,
        (
            (
                "b",
                "1",
                "Any",
                "",
                False,
                (("c", "1", ">=1", "", False, (("a", "1", "Any", "", True, ()),)),),
            ),
        ),
    )


def test_reverse_goes_up_to_the_roots_with_each_edges_spec() -> None:
    graph = plain_graph(
        ("app", "1", [["web", ">=2", [], ""], ["util", "Any", [], ""]]),
        ("web", "2.5", [["util", "<1", [], ""]]),
        ("util", "1.0", []),
    )
    (util,) = graph.reverse(["util"])
    assert [(n.key, n.required, n.conflict) for n in util.children] == [
        ("app", "Any", None),
        ("web", "<1", "unsatisfied"),
    ]
    assert [(n.key, n.required) for n in util.children[1].children] == [("app", ">=2")]


def test_an_extra_is_active_only_when_something_installed_asks_for_it() -> None:
    graph = plain_graph(
        ("app", "1", [["lib", "Any", ["Fast"], ""]]),
        ("lib", "1", [["speedy", "Any", [], "fast"], ["sloth", "Any", [], "slow"]]),
        ("speedy", "1", []),
        ("sloth", "1", []),
    )
    assert graph.active_extras["lib"] == frozenset({"fast"})
    assert sorted(graph.dependents) == ["lib", "speedy"]
    assert [node.key for node in graph.tree()] == ["app", "sloth"]


@pytest.mark.parametrize(
    "data",
    [
        ["alpha", ">=1", ["x"], ""],
        ["beta", "Any", [], "docs"],
    ],
)
def test_dependency_round_trips_through_json(data: list[object]) -> None:
    assert Dependency.from_json(json.loads(json.dumps(data))).to_json() == data


def test_a_package_is_keyed_by_its_canonical_name() -> None:
    assert Package("Foo_Bar.baz", "1").key == "foo-bar-baz"


# --- python -m envcore tree, as whole processes -----------------------------------------


def envcore_tree(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcore", "tree", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_pipdeptrees_lines_and_marks_conflicts(tangled_env: Path) -> None:
    result = envcore_tree(str(tangled_env))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "App==1.0"
    assert "├── lib [required: >=1.0, installed: 1.2.0]" in lines
    assert "│   └── speedy [required: >=1, installed: 1.0, extra: fast]" in lines
    assert "├── gone [required: >=1, installed: ?] (missing)" in lines
    assert "├── old [required: >=2, installed: 1.0] (unsatisfied)" in lines
    assert "│   │       └── cyc-a [required: >=1, installed: 1.0] (*)" in lines
    assert "* App==1.0 requires old [required: >=2, installed: 1.0] (unsatisfied)" in result.stderr


def test_cli_text_is_pipdeptrees_text_but_for_the_marks(plain_env: Path) -> None:
    ours_text = envcore_tree(str(plain_env)).stdout
    theirs_text = subprocess.run(
        [PIPDEPTREE, "--python", str(plain_env / "bin" / "python"), "-o", "text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ours_text.replace(" (unsatisfied)", "").replace(" (missing)", "") == theirs_text


@pytest.mark.parametrize("fixture", ["tangled_env", "plain_env"])
def test_cli_reverse_text_is_pipdeptrees(fixture: str, request: pytest.FixtureRequest) -> None:
    env: Path = request.getfixturevalue(fixture)
    ours_text = envcore_tree(str(env), "--reverse").stdout
    theirs_text = subprocess.run(
        [PIPDEPTREE, "--python", str(env / "bin" / "python"), "-o", "text", "--reverse"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ours_text.replace(" (unsatisfied)", "").replace(" (missing)", "") == theirs_text


def test_cli_reverse_for_one_package(tangled_env: Path) -> None:
    result = envcore_tree(str(tangled_env), "--reverse", "--package", "Foo_Bar")
    assert result.stdout.splitlines() == [
        "foo_bar==0.3",
        "├── App==1.0 [requires: foo_bar]",
        "└── lib==1.2.0 [requires: foo_bar>=0.1]",
        "    └── App==1.0 [requires: lib>=1.0]",
    ]


def test_cli_json_shape(tangled_env: Path) -> None:
    result = envcore_tree(str(tangled_env), "--json", "--package", "lib2,lib", "--depth", "1")
    assert result.returncode == 0
    assert json.loads(result.stdout) == [
        {
            "name": "lib2",
            "key": "lib2",
            "version": "2.0",
            "required": "2.0",
            "extra": None,
            "conflict": None,
            "repeated": False,
            "cycle": False,
            "truncated": False,
            "children": [],
        },
        {
            "name": "lib",
            "key": "lib",
            "version": "1.2.0",
            "required": "1.2.0",
            "extra": None,
            "conflict": None,
            "repeated": False,
            "cycle": False,
            "truncated": False,
            "children": [
                {
                    "name": "foo_bar",
                    "key": "foo-bar",
                    "version": "0.3",
                    "required": ">=0.1",
                    "extra": None,
                    "conflict": None,
                    "repeated": False,
                    "cycle": False,
                    "truncated": False,
                    "children": [],
                },
                {
                    "name": "tiny",
                    "key": "tiny",
                    "version": "1.4",
                    "required": ">=1.0,!=1.5,<2",
                    "extra": None,
                    "conflict": None,
                    "repeated": False,
                    "cycle": False,
                    "truncated": False,
                    "children": [],
                },
            ],
        },
    ]


def test_cli_strict_exits_1_on_a_conflict_like_pipdeptrees_warn_fail(tangled_env: Path) -> None:
    assert envcore_tree(str(tangled_env), "--strict").returncode == 1
    assert envcore_tree(str(tangled_env), "--strict", "--package", "lib").returncode == 1


def test_cli_strict_exits_0_without_conflicts(plain_env: Path) -> None:
    result = envcore_tree(str(plain_env), "--strict")
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--package", "nosuch"], "not installed in"),
        (["--depth", "-1"], "must be 0 or more"),
    ],
)
def test_cli_usage_errors_are_one_line_and_exit_2(
    tangled_env: Path, args: list[str], message: str
) -> None:
    result = envcore_tree(str(tangled_env), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cli_refuses_what_is_not_an_environment(tmp_path: Path) -> None:
    result = envcore_tree(str(tmp_path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
