"""Requirements parsing + drift speed, side by side with pip's own requirements parser.

Builds, in a temp dir, a 1,000-line requirements file spread over includes (-r, -c;
comments, continuations, hashes, markers, extras, ranges, URLs) and a synthetic venv with
300 distributions (dist-info directories written directly, with Requires-Dist between
them). Then, alternating runs to share the machine's noise, with every cache cleared:
  - envcore parse_requirements_file           vs  pip's parse_requirements +
                                                   install_req_from_parsed_requirement
  - envcore parse + inspect + inventory + drift (the issue's < 20 ms target)
Usage: .venv/bin/python benchmarks/bench_drift.py [--lines 1000] [--dists 300] [--runs 21]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements
from pip._internal.utils.packaging import get_requirement

from envcore import _pep508
from envcore.distributions import parse_dependency, read_inventory
from envcore.drift import compute_drift
from envcore.environment import inspect_environment
from envcore.pipcompat import check
from envcore.requirements import parse_requirements_file

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


#: What a typical PyPI package's METADATA carries besides name, version and requirements.
_TYPICAL_HEADERS = [
    "Home-page: https://example.com/project",
    "Author: Example Maintainers",
    "Author-email: maintainers@example.com",
    "License: MIT",
    "Project-URL: Documentation, https://example.com/docs",
    "Project-URL: Source, https://example.com/source",
    "Project-URL: Changelog, https://example.com/changes",
    "Keywords: example,synthetic,benchmark",
    *(
        f"Classifier: {classifier}"
        for classifier in (
            "Development Status :: 5 - Production/Stable",
            "Intended Audience :: Developers",
            "License :: OSI Approved :: MIT License",
            "Operating System :: OS Independent",
            "Programming Language :: Python",
            "Programming Language :: Python :: 3",
            "Programming Language :: Python :: 3 :: Only",
            *(f"Programming Language :: Python :: 3.{minor}" for minor in range(9, 15)),
            "Topic :: Software Development :: Libraries",
            "Typing :: Typed",
        )
    ),
    "Requires-Python: >=3.9",
    "Description-Content-Type: text/markdown",
]


def dependency_spec(version: str, rng: random.Random) -> str:
    """A Requires-Dist specifier that `version` satisfies, in the forms packages use."""
    major, minor, patch = (int(part) for part in version.split("."))
    lower = f"{major}.{rng.randint(0, minor)}"
    form = rng.randrange(6)
    if form == 0:
        return ""
    if form == 1:
        return f">={lower}"
    if form == 2:
        return f"<{major + 1},>={lower}"
    if form == 3:
        return f" (>={lower})"
    if form == 4:
        return f"~={lower}"
    return f"!={major}.{minor}.{patch + 1},>={lower}"


def build_env(root: Path, count: int, rng: random.Random) -> tuple[Path, list[tuple[str, str]]]:
    env = root / "project" / ".venv"
    site = env / "lib" / f"python{PY}" / "site-packages"
    site.mkdir(parents=True)
    (env / "bin").mkdir()
    (env / "bin" / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    (env / "pyvenv.cfg").write_text(
        f"home = {Path(sys.base_prefix) / 'bin'}\ninclude-system-site-packages = false\n"
        f"version = {PY}.7\n"
    )
    installed = []
    versions = [
        f"{rng.randint(0, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}" for _ in range(count)
    ]
    for index, version in enumerate(versions):
        name = f"Pkg_{index:03d}" if index % 7 == 0 else f"pkg-{index:03d}"
        requires = []
        for _ in range(rng.randint(0, 3)):
            other = rng.randrange(count)
            if other != index:
                requires.append(f"pkg-{other:03d}{dependency_spec(versions[other], rng)}")
        if index % 11 == 0:
            requires.append('colorama; sys_platform == "win32"')
        if index % 13 == 0:
            requires.append(f'pkg-{(index + 1) % count:03d}[fast]; extra == "speed"')
        directory = site / f"{name.replace('-', '_')}-{version}.dist-info"
        directory.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Summary: synthetic package {index}", *_TYPICAL_HEADERS]
        lines += [f"Requires-Dist: {requirement}" for requirement in requires]
        body = "Long description.\n" * 40
        (directory / "METADATA").write_text("\n".join(lines) + "\n\n" + body)
        (directory / "INSTALLER").write_text("pip\n")
        # Mostly pure-Python wheels; every tenth a binary one, as in real environments.
        tag = f"cp{PY.replace('.', '')}-cp{PY.replace('.', '')}-manylinux_2_17_x86_64"
        (directory / "WHEEL").write_text(
            "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\n"
            f"Root-Is-Purelib: {'false' if index % 10 == 0 else 'true'}\n"
            f"Tag: {tag if index % 10 == 0 else 'py3-none-any'}\n\n"
        )
        (directory / "RECORD").write_text("")
        installed.append((name, version))
    return env, installed


def requirement_line(index: int, installed: list[tuple[str, str]], rng: random.Random) -> str:
    name, version = installed[index % len(installed)]
    kind = index % 10
    if kind == 0:
        return f"# section {index}: why these are pinned"
    if kind == 1:
        return ""
    if kind == 2:
        return (
            f"{name}=={version} \\\n    --hash=sha256:{'ab' * 32} \\\n    --hash=sha256:{'cd' * 32}"
        )
    if kind == 3:
        return f'{name}>=0.1,<99 ; python_version >= "3.8"  # a marker'
    if kind == 4:
        return f"{name}[fast,cli]~=1.0" if index % 20 == 4 else f"{name}!=9.9.*"
    if kind == 5:
        return f"missing-{index:04d}==1.{rng.randint(0, 9)}"
    if kind == 6:
        return f"{name} @ https://example.com/wheels/{name}-{version}.tar.gz"
    return f"{name}=={version}"


def build_requirements(
    root: Path, total: int, installed: list[tuple[str, str]], rng: random.Random
) -> Path:
    project = root / "project"
    (project / "requirements").mkdir(parents=True, exist_ok=True)
    lines = [requirement_line(index, installed, rng) for index in range(total)]
    physical = [len(line.splitlines()) or 1 for line in lines]
    quarter = len(lines) // 4
    parts = [lines[:quarter], lines[quarter : 2 * quarter], lines[2 * quarter :]]
    (project / "requirements" / "base.txt").write_text("\n".join(parts[1]) + "\n")
    (project / "requirements" / "extra.txt").write_text(
        "-r base.txt\n" + "\n".join(parts[2]) + "\n"
    )
    (project / "requirements" / "constraints.txt").write_text(
        "\n".join(f"{name}<100" for name, _ in installed[:50]) + "\n"
    )
    (project / "requirements.txt").write_text(
        "--index-url https://pypi.example.com/simple\n-r requirements/extra.txt\n"
        "-c requirements/constraints.txt\n" + "\n".join(parts[0]) + "\n"
    )
    print(
        f"{sum(physical) + 4} physical lines in 4 files, {len(installed)} distributions installed"
    )
    return project / "requirements.txt"


def clear_caches() -> None:
    """Every cache of parsed input. Not the supported-tag table: it depends only on the
    interpreter and the machine, and pip builds it once per process too."""
    _pep508.requirement.cache_clear()
    _pep508.marker_text.cache_clear()
    _pep508.specifier_set.cache_clear()
    _pep508._specifier.cache_clear()
    _pep508.normalized_specifier.cache_clear()
    parse_dependency.cache_clear()
    _pep508.canonical_name.cache_clear()
    _pep508.marker.cache_clear()
    get_requirement.cache_clear()


def envcore_parse(path: Path) -> int:
    return len(parse_requirements_file(path).entries)


def pip_parse(path: Path) -> int:
    session = PipSession()
    requirements = [
        install_req_from_parsed_requirement(parsed)
        for parsed in parse_requirements(str(path), session=session)
    ]
    return len(requirements)


def envcore_drift(path: Path, env_path: Path) -> int:
    parsed = parse_requirements_file(path)
    env = inspect_environment(env_path)
    report = compute_drift(env, read_inventory(env), parsed)
    return len(report.items)


def timed_parts(path: Path, env_path: Path, parts: dict[str, list[float]]) -> None:
    """Each stage of parse + drift on its own (fresh objects, caches cleared)."""
    clear_caches()
    env = inspect_environment(env_path)
    start = time.perf_counter()
    inventory = read_inventory(env)
    parts["read_inventory (pipcompat/inspect)"].append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    check(inventory)
    parts["pip check findings (pipcompat.check)"].append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    inventory.not_required()
    parts["top-level dists (Inventory.not_required)"].append((time.perf_counter() - start) * 1000)
    parsed = parse_requirements_file(path)
    fresh = read_inventory(env)
    clear_caches()
    start = time.perf_counter()
    compute_drift(env, fresh, parsed)
    parts["compute_drift incl. the two above"].append((time.perf_counter() - start) * 1000)


def timed(function: Callable[[], int], results: list[float]) -> int:
    clear_caches()
    start = time.perf_counter()
    value = function()
    results.append((time.perf_counter() - start) * 1000)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--dists", type=int, default=300)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        root = Path(tmp)
        env, installed = build_env(root, args.dists, rng)
        path = build_requirements(root, args.lines, installed, rng)
        ours: list[float] = []
        theirs: list[float] = []
        whole: list[float] = []
        parts: dict[str, list[float]] = defaultdict(list)
        entries = pip_entries = items = 0
        PipSession()  # pip's first session pays for imports: keep that out of the runs
        for _ in range(args.runs):
            entries = timed(lambda: envcore_parse(path), ours)
            pip_entries = timed(lambda: pip_parse(path), theirs)
            items = timed(lambda: envcore_drift(path, env), whole)
            timed_parts(path, env, parts)
        assert entries == pip_entries, (entries, pip_entries)
        environment = inspect_environment(env)
        report = compute_drift(
            environment, read_inventory(environment), parse_requirements_file(path)
        )
        print(f"{entries} entries (pip: {pip_entries}); drift: {items} items, {report.counts}")
        ours_ms, pip_ms = statistics.median(ours), statistics.median(theirs)
        print(f"median of {args.runs} runs, caches cleared before each")
        print(f"{'measurement':<58} {'envcore':>9} {'pip':>9} {'ratio':>8}")
        print(
            f"{'parse the file and its includes':<58} {ours_ms:>7.2f}ms {pip_ms:>7.2f}ms "
            f"{pip_ms / ours_ms:>7.1f}x"
        )
        label = "parse + inspect + inventory + drift, end to end"
        print(f"{label:<58} {statistics.median(whole):>7.2f}ms  (best {min(whole):.2f}ms)")
        for name, values in parts.items():
            print(f"  {name:<56} {statistics.median(values):>7.2f}ms")


if __name__ == "__main__":
    main()
