"""The leak scanner and the subprocess run the secret tests share.

``recoverable`` says which pieces of a token a text gives away in any form: it undoes
percent-encoding, JSON/backslash escapes and HTML references (up to two layers, in any order)
and decodes every base64 run at every alignment and every hex run at both. ``cli_run`` is
``comms-contract run`` in a subprocess with the credentials in the environment, the way CI
runs it, writing every report.
"""

from __future__ import annotations

import base64
import html
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

PIECE = 10  # what the acceptance scanner calls recoverable

_BACKSLASH_U = re.compile(r"\\+u([0-9a-fA-F]{4})")
_BACKSLASH = re.compile(r"\\+(.)", re.S)
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{14,}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")


def _unescape(text: str) -> str:
    return _BACKSLASH.sub(r"\1", _BACKSLASH_U.sub(lambda m: chr(int(m[1], 16)), text))


def variants(text: str) -> set[str]:
    """``text`` with up to two layers of encoding undone, in any order."""
    steps = (unquote, _unescape, html.unescape)
    seen, layer = {text}, {text}
    for _ in range(2):
        layer = {step(t) for t in layer for step in steps} - seen
        seen |= layer
    return seen


def recoverable(text: str, token: str, n: int = PIECE) -> list[str]:
    """Every n-character piece of ``token`` that ``text`` gives away, in any form."""
    pieces = {token[i : i + n] for i in range(len(token) - n + 1)}
    raw = token.encode()
    byte_pieces = {raw[i : i + n] for i in range(len(raw) - n + 1)}
    found = set()
    for variant in variants(text):
        low = variant.lower()
        found |= {p for p in pieces if p.lower() in low}
        for run in _B64_RUN.findall(variant):
            std = run.replace("-", "+").replace("_", "/")
            for offset in range(4):
                chunk = std[offset:]
                chunk = chunk[: len(chunk) // 4 * 4]
                decoded = base64.b64decode(chunk)
                found |= {repr(p) for p in byte_pieces if p in decoded}
        for run in _HEX_RUN.findall(variant):
            for offset in range(2):
                chunk = run[offset:]
                decoded = bytes.fromhex(chunk[: len(chunk) // 2 * 2])
                found |= {repr(p) for p in byte_pieces if p in decoded}
    return sorted(found)


def cli_run(
    base: str, account: str, token: str, out: Path, *, clauses: str, seed: int, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``comms-contract run --profile quick -v`` against ``base`` in a subprocess, credentials
    from the environment, JSON/JUnit/HTML reports written to ``out`` (r.json, j.xml, r.html)."""
    env = {**os.environ, "COMMS_BASE_URL": base, "COMMS_ACCOUNT_ID": account}
    env["COMMS_AUTH_TOKEN"] = token
    return subprocess.run(
        [
            *(sys.executable, "-m", "comms_contract", "run", "--profile", "quick"),
            *("--clause", clauses, "--seed", str(seed), "-v"),
            *("--report-json", str(out / "r.json"), "--junit-xml", str(out / "j.xml")),
            *("--report-html", str(out / "r.html")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=out,
        check=False,
    )
