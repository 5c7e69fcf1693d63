"""Words shown to people: counts, and URLs and command lines without credentials."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envcore.text import counted, has_control_characters, mark_invisible, shown_argv, shown_url


def test_counts_read_as_people_write_them() -> None:
    assert counted(1, "change") == "1 change"
    assert counted(0, "change") == "0 changes"
    assert counted(3, "package") == "3 packages"


def test_a_url_keeps_its_user_and_loses_its_password() -> None:
    assert (
        shown_url("https://alice:pw@pypi.example/simple/")
        == "https://alice:****@pypi.example/simple/"
    )
    assert shown_url("https://tok3n@host:8443/simple") == "https://****@host:8443/simple"
    assert shown_url("https://pypi.org/simple/") == "https://pypi.org/simple/"
    assert shown_url("/opt/wheels") == "/opt/wheels"
    assert shown_url("https://host/simple?user=a@b") == "https://host/simple?user=a@b"
    assert shown_url("http://[") == "http://["


def test_a_command_line_loses_every_credential_in_every_spelling() -> None:
    argv = [
        "uv",
        "pip",
        "install",
        "--index-url=https://alice:pw1@a.example/simple",
        "--extra-index-url",
        "http://tok2@b.example:81/simple",
        "--find-links=https://c.example/wheels",
        "name @ https://carol:pw3@d.example/name-1.0.whl",
        "--index-url=https://dave:p@ss:w0rd@e.example/simple",
    ]
    assert shown_argv(argv) == (
        "uv",
        "pip",
        "install",
        "--index-url=https://alice:****@a.example/simple",
        "--extra-index-url",
        "http://****@b.example:81/simple",
        "--find-links=https://c.example/wheels",
        "name @ https://carol:****@d.example/name-1.0.whl",
        "--index-url=https://dave:****@e.example/simple",
    )


_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=", min_size=1)


@given(
    user=_part,
    password=st.builds(str.__add__, _part, st.text(alphabet="@:" + "abc", max_size=4)),
    prefix=st.sampled_from(["", "--index-url=", "x @ "]),
)
def test_no_password_survives(user: str, password: str, prefix: str) -> None:
    url = f"https://{user}:{password}@host.example/simple/"
    shown = shown_argv([prefix + url])[0]
    assert shown == f"{prefix}https://{user}:****@host.example/simple/"
    assert shown_url(url) == f"https://{user}:****@host.example/simple/"


@given(st.text())
def test_any_text_is_shown_without_error(text: str) -> None:
    """Anything may be on a command line; showing it never raises, and keeps what has no
    credentials as it is."""
    shown = shown_argv([text])[0]
    if "@" not in text:
        assert shown == text


@pytest.mark.parametrize(
    ("text", "shown", "as_lines"),
    [
        ("plain ünïcode\tname", "plain ünïcode⟨U+0009⟩name", "plain ünïcode⟨U+0009⟩name"),
        ("a\nb\r\n", "a⟨U+000A⟩b⟨U+000D⟩⟨U+000A⟩", "a\nb⟨U+000D⟩\n"),
        ("red\x1b]0;t\x07", "red⟨U+001B⟩]0;t⟨U+0007⟩", "red⟨U+001B⟩]0;t⟨U+0007⟩"),
        ("\x7f\x9b\u202etxt\u2066", "⟨U+007F⟩⟨U+009B⟩⟨U+202E⟩txt⟨U+2066⟩", None),
    ],
)
def test_mark_invisible_shows_control_and_bidi_characters(
    text: str, shown: str, as_lines: str | None
) -> None:
    assert mark_invisible(text) == shown
    assert mark_invisible(text, lines=True) == (shown if as_lines is None else as_lines)
    assert has_control_characters(text) == (text != shown)
