"""Target text made safe to print: control characters escaped.

A target's values (ids, statuses, header values, body excerpts) and a driver's stderr reach
the terminal, JUnit XML and HTML inside findings. Raw, an ``ESC [2J`` clears the user's
screen, ``ESC ] 0;…BEL`` sets the window title, a ``CR`` overwrites a line, and XML 1.0
forbids most C0 characters, so one such id made the JUnit file unparsable (breaker,
2026-11-30). Escaped where findings and notes are made, they read ``\\x1b[2J``.
"""

from __future__ import annotations

import re

# C0 controls (TAB, LF and CR included: a target's value never breaks a line of a report),
# DEL, C1 controls, and the two Unicode line separators some terminals honour
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with every control character written as a Python-style escape (``\\x1b``,
    ``\\n``, ``\\u2028``); other characters, non-ASCII letters included, unchanged."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch)
    if named:
        return named
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


# XML 1.0 allows TAB, LF, CR and U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot carry escaped (a last guard for JUnit)."""
    return _NOT_XML.sub(_escape, text) if _NOT_XML.search(text) else text
