"""A project's own TOML file (pyproject.toml, a Pipfile) is read once while unchanged, and
read again as soon as it may have changed: every reader of a scan takes it from one place."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks._read import read_project_toml

SETTLED_S = 1.1  # a file changed within the last second is never kept (racy-clean)


def test_a_settled_file_is_read_once_and_again_after_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\n')
    time.sleep(SETTLED_S)
    first = read_project_toml(path)
    assert read_project_toml(path) is first
    path.write_text('[project]\nname = "other"\n')
    assert read_project_toml(path)[1] == {"project": {"name": "other"}}


def test_a_file_just_written_is_read_each_time(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\n')
    first = read_project_toml(path)
    second = read_project_toml(path)
    assert second == first
    assert second is not first


def test_a_link_kept_as_followed_is_still_refused_where_links_are_not_followed(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere.toml"
    target.write_text('[tool.uv]\ndefault-groups = ["lint"]\n')
    link = tmp_path / "pyproject.toml"
    os.symlink(target, link)
    time.sleep(SETTLED_S)
    assert read_project_toml(link)[1] == {"tool": {"uv": {"default-groups": ["lint"]}}}
    with pytest.raises(RequirementsError, match=f"cannot read {link}"):
        read_project_toml(link, follow_symlinks=False)


def test_a_file_that_is_not_toml_is_one_line_naming_it_each_time(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    time.sleep(SETTLED_S)
    for _ in range(2):
        with pytest.raises(RequirementsError, match=f"^{path} is not valid TOML: .*line 1"):
            read_project_toml(path)
