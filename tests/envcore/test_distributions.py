"""Installed distributions: metadata read safely, as importlib.metadata and pip read it."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from envcore.distributions import parse_dependency, read_inventory
from envcore.environment import inspect_environment
from envcore.pipcompat import freeze
from tests.envcore.synthetic import dist_info, posix_venv


def test_corrupt_metadata_is_a_per_package_warning(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "env")
    dist_info(site, "good", "1.0")
    no_name = site / "bad-1.0.dist-info"
    no_name.mkdir()
    (no_name / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")
    not_utf8 = site / "binary-1.0.dist-info"
    not_utf8.mkdir()
    (not_utf8 / "METADATA").write_bytes(b"Name: binary\nVersion: \xff\xfe\n")
    (site / "empty-1.0.dist-info").mkdir()  # METADATA missing altogether
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    assert [d.name for d in inventory.distributions] == ["good"]
    assert len(inventory.warnings) == 3
    assert all(w.startswith("skipped ") for w in inventory.warnings)


def test_one_distribution_per_canonical_name(tmp_path: Path) -> None:
    """Spellings of one project count once; `foobar` is another project (same letters)."""
    site = posix_venv(tmp_path / "env")
    dist_info(site, "Foo.Bar", "1.0")
    dist_info(site, "foo__bar", "2.0")
    dist_info(site, "FOO-bar", "3.0")
    dist_info(site, "foobar", "4.0")
    dist_info(site, "other", "5.0")
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    names = sorted(dist.canonical_name for dist in inventory.distributions)
    assert names == ["foo-bar", "foobar", "other"]
    assert not inventory.warnings


_AWKWARD_METADATA = {
    "crlf": b"Metadata-Version: 2.1\r\nName: crlf-pkg\r\nVersion: 1.0\r\n"
    b"Requires-Dist: alpha>=1\r\nRequires-Dist: beta ; extra == 'x'\r\n\r\nName: not-me\r\n",
    "folded": b"Metadata-Version: 1.0\nNAME: Folded.Pkg\nversion: 2.0\n"
    b"Summary: first line\n        second line\nLicense: MIT\n   more license\n"
    b"Requires-Dist: gamma\n\nVersion: 9.9 in the body\n",
    "classifiers": b"Metadata-Version: 2.1\nName: many\nVersion: 3.0\n"
    + b"".join(b"Classifier: Topic :: Name: %d\n" % n for n in range(40))
    + b"Requires-Dist: delta (<2,>=1)\nMetadata-Version-Extra: 1\n\nbody\n",
    "old-mac": b"Metadata-Version: 1.0\rName: oldmac\rVersion: 0.5\rSummary: cr only\r",
    "spaced-key": b"Metadata-Version: 2.1\nName: spaced\nVersion : 1.0\n",
}


def test_metadata_headers_read_as_importlib_metadata_reads_them(tmp_path: Path) -> None:
    """The regex header reader against the stdlib's email-based one, on awkward files."""
    site = posix_venv(tmp_path / "env")
    for label, raw in _AWKWARD_METADATA.items():
        directory = site / f"{label}-1.0.dist-info"
        directory.mkdir()
        (directory / "METADATA").write_bytes(raw)
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    # `Version : 1.0` is no Version header to the email parser (pip's reader) either.
    assert [w.split()[1] for w in inventory.warnings] == ["spaced-key-1.0.dist-info:"]
    assert len(inventory.distributions) == len(_AWKWARD_METADATA) - 1
    for dist in inventory.distributions:
        oracle = importlib.metadata.PathDistribution(Path(dist.metadata_dir)).metadata
        assert dist.name == oracle["Name"]
        assert dist.version == oracle["Version"]
        assert dist.requires == tuple(oracle.get_all("Requires-Dist") or ())
        assert " ".join(dist.summary.split()) == " ".join((oracle["Summary"] or "").split())


def test_legacy_egg_info_and_invalid_versions(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "env")
    egg = site / "oldpkg-0.1-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: oldpkg\nVersion: 0.1\n")
    (egg / "requires.txt").write_text("alpha>=1\n\n[extra]\nbeta\n")
    dist_info(site, "weird", "not.a.version")
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    assert inventory.by_name["oldpkg"].requires == ("alpha>=1",)
    assert "weird===not.a.version" in freeze(inventory).lines


_DEPENDENCY_PARTS = st.sampled_from(
    ["requests", "Foo_Bar.Baz", "a", "x-1", "name", "_bad", "pkg.", "", " "]
)
_SPEC_PARTS = st.sampled_from(
    [
        "",
        ">=1.0",
        "==1.*",
        "~=1.4",
        "<2,>=1",
        "!=1.5",
        "===weird",
        "==1.0.*.x",
        ">=",
        "(>=1.0)",
        " ( >= 1.0 , < 2 )",
        "(>=1",
        "[extra]>=1",
        "; python_version<'3'",
        " @ https://x/y.whl",
    ]
)


_EXTRAS_PARTS = st.sampled_from(
    ["", "[fast]", "[ a , b ]", "[]", "[_x]", "[x.]", "[a,]", "[a b]", " [cli]", "[a-b.c_d]"]
)
_MARKER_PARTS = st.sampled_from(
    [
        "",
        '; extra == "dev"',
        ' ; sys_platform == "win32"',
        ";python_version>='3.8' and extra=='x'",
        ";",
        "; ",
        "; nonsense",
        '; os_name == "nt" or (extra == "a" and python_version < "3")',
        ';extra == "a";',
    ]
)


@settings(max_examples=400)
@given(name=_DEPENDENCY_PARTS, extras=_EXTRAS_PARTS, spec=_SPEC_PARTS, marker=_MARKER_PARTS)
def test_the_dependency_fast_path_agrees_with_packaging(
    name: str, extras: str, spec: str, marker: str
) -> None:
    text = name + extras + spec + marker
    ours = parse_dependency(text)
    try:
        theirs: Requirement | None = Requirement(text)
    except InvalidRequirement:
        theirs = None
    assert (str(ours) if ours else None) == (str(theirs) if theirs else None)
    if ours is not None and theirs is not None:
        assert ours.name == theirs.name
        assert ours.specifier == theirs.specifier
        assert ours.marker == theirs.marker
