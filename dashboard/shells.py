"""Quoting a path for each shell an activation command is pasted into.

Every shell has its own rules, and a directory name is chosen by whoever made it: POSIX
quoting is not fish quoting (fish reads `\\'` inside single quotes), csh expands `!` even
inside quotes, PowerShell also ends a single-quoted string at ‘ ’ ‚ ‛, and cmd expands
`%VAR%` inside double quotes with no escape at all.
"""

from __future__ import annotations

import shlex

__all__ = ["quote_cmd", "quote_csh", "quote_fish", "quote_posix", "quote_powershell"]

#: The characters PowerShell accepts as a single quote (it doubles any of them to escape).
_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_posix(text: str) -> str:
    """bash, zsh, sh, Git Bash."""
    return shlex.quote(text)


def quote_fish(text: str) -> str:
    """Inside fish single quotes only `\\` and `'` are special, each escaped by `\\`."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_csh(text: str) -> str:
    """csh/tcsh: single quotes, a quote as '\\'', and `!` and newlines escaped inside."""
    inner = text.replace("'", "'\\''").replace("!", "\\!").replace("\n", "\\\n")
    return "'" + inner + "'"


def quote_powershell(text: str) -> str:
    """A verbatim (single-quoted) string: each quote character, typographic ones too, doubled."""
    return "'" + "".join(ch * 2 if ch in _POWERSHELL_QUOTES else ch for ch in text) + "'"


def quote_cmd(text: str) -> str | None:
    """Double quotes for cmd.exe, or None when no quoting is safe.

    Inside double quotes `& | < > ^` are literal, but `%` still expands variables and a
    `"` ends the string; a line break ends the command. None of these can be escaped on
    an interactive cmd line, so such a path gets no cmd command at all.
    """
    if any(ch in text for ch in '"%\r\n') or not text.isprintable():
        return None
    return f'"{text}"'
