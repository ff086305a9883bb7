"""Secrets, end to end: a server that echoes the credentials in every form it can think of
(raw, upper-case, escaped, percent-encoded, HTML references, base64 at every alignment and in
fragments, hex, in bodies, JSON field values padded so that every cut lands inside the token, and
headers) leaves nothing from which a 10-character piece of the token can be recovered.

Checked through both exits a user has: ``comms-contract run`` (stdout, stderr, JSON, JUnit,
HTML) and plain pytest with the plugin (``--tb=long -l -rA --junitxml --debug``), each with a
token that holds ``/ + =`` and one that does not. The scanner (``recoverable``) undoes
percent-encoding, JSON/backslash escapes and HTML references, up to two layers in any order,
and decodes every base64 run at every alignment.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leaks import cli_run, recoverable
from loopback import serve
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from comms_contract.paths import contracts_dir
from comms_contract.redact import Redactor
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError, Credentials

ACCOUNT = "ACecho000000000000000000000000042"
TOKENS = {
    "slash-plus-equals": "Zq/8+kR=w3/Tn+0pL=eV/7x+Yh=Qs",
    "alphanumeric": "s3ntinelTOKEN9f8e7d5c4b3a21xy",
}
# 11 tests in the quick profile; ERROR-BODY would select 86 (tests/test_secrets.py has it)
CLAUSES = "AUTH,CT,OP-SHAPE,ENVELOPE"


# ---- the forms a leaky server writes -------------------------------------------------------
def echo_forms(account: str, token: str, authorization: str) -> list[str]:
    pair = f"{account}:{token}"
    raw = pair.encode()
    b64 = base64.b64encode(raw).decode()
    forms = [
        token,
        token.upper(),
        pair,
        authorization,
        json.dumps(pair).replace("/", "\\/"),  # PHP's json_encode
        "".join(f"\\u{ord(c):04x}" for c in token),
        "".join(f"\\u{ord(c):04X}" for c in token),
        quote(pair, safe=""),
        quote(pair, safe="").lower(),
        quote(quote(token, safe=""), safe=""),
        "".join(f"%{ord(c):02x}" for c in token),
        html.escape(token).replace("/", "&#x2F;").replace("+", "&#43;").replace("=", "&equals;"),
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        quote(b64, safe=""),
        b64.replace("/", "\\/"),
        token.encode().hex(),  # a debug dump (breaker, 2026-11-30: hex went through unmasked)
        raw.hex().upper(),
        "x" + token.encode().hex()[1:],  # a run that starts mid-byte
    ]
    for align in range(3):  # the token at every byte offset of a base64 stream
        data = b"\x00\x7f"[:align] + token.encode() + b"!"
        forms.append(base64.b64encode(data).decode())
        forms.append(base64.urlsafe_b64encode(data).decode())
    for cut in range(1, 4):  # fragments of the encoded pair, cut at every character offset
        forms.append(b64[cut + 8 :])
    return forms


class EchoServer(ReferenceServer):
    """Mutant: every response echoes the credentials. Pages of 1 and 1000 items are a text and
    an HTML page (ENVELOPE), others carry the pair in Content-Type (CT), and every operation's
    ``status`` a padded form, so a 200-character cut of the schema message lands inside the
    token at a different offset each time (OP-SHAPE)."""

    def __init__(self, token: str) -> None:
        super().__init__(credentials=Credentials(ACCOUNT, token), seed=3)
        self._auth = ""
        self._n = 0

    def forms(self) -> list[str]:
        return echo_forms(ACCOUNT, self.credentials.auth_token, self._auth)

    def respond(self, request: Request) -> Response:
        self._auth = request.headers.get("authorization", "")
        self._n += 1
        response = super().respond(request)
        token = self.credentials.auth_token
        response.headers["X-Echo-Authorization"] = self._auth
        response.headers["X-Echo-Token"] = quote(token, safe="")
        response.headers["Set-Cookie"] = f"session={base64.b64encode(token.encode()).decode()}"
        return response

    def render_operation(self, op) -> dict:
        doc = op.to_json()
        forms = self.forms()
        self._n += 1
        form = forms[self._n % len(forms)]
        # jsonschema's message starts "'<value>..."; 200 characters in: offset k of the form
        k = (self._n // len(forms)) % max(1, len(form) - 1) + 1
        doc["status"] = "P" * max(0, 199 - k) + form + " tail"
        doc["debug"] = {"authorization": self._auth, "form": forms[-self._n % len(forms)]}
        return doc

    def text(self) -> str:
        pad = "x" * (60 + self._n % 40)  # the 120-character snippet ends inside a form
        return pad + " | ".join(self.forms())

    def render_page(self, page) -> Response:
        size = page.self_cursor.page_size
        if size == 1:  # an escaped text body (ENVELOPE: not JSON)
            return PlainTextResponse(self.text())
        if size == 1000:  # a debug page (ENVELOPE: not JSON)
            return HTMLResponse(f"<html><body><pre>{html.escape(self.text())}</pre></body></html>")
        response = super().render_page(page)
        # CT: not application/json, and the header quotes the pair
        response.headers["content-type"] = f'text/json; echo="{self.forms()[2]}"'
        return response

    def error(self, err: ApiError) -> Response:
        response = PlainTextResponse(self.text(), status_code=err.status, headers=err.headers)
        response.headers["content-type"] = f'text/plain; echo="{self.forms()[7]}"'
        return response


def test_scanner_finds_every_form_the_server_writes():
    """The scanner is only as good as what it decodes: each form alone must be caught."""
    for token in TOKENS.values():
        auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{token}".encode()).decode()
        for form in echo_forms(ACCOUNT, token, auth):
            assert recoverable(f"({form})", token), form


def test_redactor_leaves_nothing_recoverable_at_any_cut():
    """Every form, cut at every offset before or after masking, gives nothing away."""
    for token in TOKENS.values():
        r = Redactor()
        r.add(ACCOUNT, token)
        auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{token}".encode()).decode()
        for form in echo_forms(ACCOUNT, token, auth):
            masked = r(f"<{form}>")
            assert not recoverable(masked, token), (form, masked)
            for cut in range(1, len(form)):
                for piece in (form[:cut], form[cut:]):
                    assert not recoverable(r(piece), token), (form, cut)
            assert r.scrub_bytes(f"<{form}>".encode()).decode() == masked


def test_masking_keeps_json_valid():
    for token in TOKENS.values():
        r = Redactor()
        r.add(ACCOUNT, token)
        auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{token}".encode()).decode()
        forms = echo_forms(ACCOUNT, token, auth)
        for doc in ({"forms": forms}, {f: [f, {"k": f}] for f in forms}):
            text = json.dumps(doc)
            for body in (text, text.replace("/", "\\/"), json.dumps(doc, ensure_ascii=True)):
                scrubbed = r.scrub_bytes(body.encode())
                assert not recoverable(scrubbed.decode(), token)
                json.loads(scrubbed)


# ---- both exits, both tokens -------------------------------------------------------------
def _files(folder: Path) -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module", params=list(TOKENS))
def token(request) -> str:
    return TOKENS[request.param]


@pytest.fixture(scope="module")
def echo_cli_run(token, tmp_path_factory):
    """``comms-contract run`` in a subprocess, credentials from the environment."""
    out = tmp_path_factory.mktemp("echo-cli")
    with serve(EchoServer(token)) as base:
        proc = cli_run(base, ACCOUNT, token, out, clauses=CLAUSES, seed=7, timeout=300)
    return proc, out


@pytest.fixture(scope="module")
def plugin_run(token, tmp_path_factory):
    """Plain pytest with the plugin, token on the command line, every pytest output on."""
    out = tmp_path_factory.mktemp("echo-plugin")
    if importlib.util.find_spec("comms_contract.contracts") is not None:
        where = ["--pyargs", "comms_contract.contracts"]
    else:  # editable install: the folder the package would carry
        here = contracts_dir()
        where = [str(here), "--rootdir", str(here), "-c", str(here / "pytest.ini")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMS_")}
    with serve(EchoServer(token)) as base:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", *where, "-p", "no:cacheprovider"),
                "--assert=plain",  # rewriting every plugin module costs ~20 s of start-up
                *("--comms-base-url", base, "--comms-account-id", ACCOUNT),
                *("--comms-auth-token", token, "--comms-profile", "quick"),
                *("--comms-clause", CLAUSES, "--comms-seed", "7"),
                *("--tb=long", "-l", "-rA", "-v", "--junitxml", str(out / "pytest.xml")),
                *("--debug", str(out / "pytestdebug.log")),
                *("--comms-report-json", str(out / "r.json")),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=out,
            check=False,
        )
    return proc, out


def test_cli_run_leaks_no_piece_of_the_token(echo_cli_run, token):
    proc, out = echo_cli_run
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"clauses violated: .*OP-SHAPE", proc.stdout)
    assert "200 body is not usable as JSON" in proc.stdout  # the text and HTML pages were shown
    files = _files(out)
    assert {"r.json", "j.xml", "r.html"} <= set(files)
    assert "[REDACTED]" in files["r.json"]  # the echo reached the report, masked
    assert "the target echoed the credentials" in files["r.json"]  # and the user is told
    # whole, on the terminal too: a row cut at 80 columns once lost it mid-sentence
    from comms_contract.http import ECHOED

    assert ECHOED in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert "notice: the target echoed" in files["j.xml"]
    for where, text in {"stdout": proc.stdout, "stderr": proc.stderr, **files}.items():
        assert not recoverable(text, token), f"{where}: {recoverable(text, token)}"


def test_plugin_run_leaks_no_piece_of_the_token(plugin_run, token):
    proc, out = plugin_run
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OP-SHAPE" in proc.stdout and "PASSED" in proc.stdout  # -rA: every outcome shown
    files = _files(out)
    assert {"pytest.xml", "pytestdebug.log", "r.json"} <= set(files)
    assert "--comms-auth-token" in files["pytestdebug.log"]  # argv was logged, then masked
    assert "visible to ps" in proc.stdout + proc.stderr  # the warning about argv
    for where, text in {"stdout": proc.stdout, "stderr": proc.stderr, **files}.items():
        assert not recoverable(text, token), f"{where}: {recoverable(text, token)}"


_PARTS = st.sampled_from(
    ["\\", "\\\\", "\\/", "%", "%2F", "%2f", "&", "&#47;", "&sol;", "\\u002f", '"', "x", " "]
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    which=st.sampled_from(list(TOKENS.values())),
    parts=st.lists(st.one_of(_PARTS, st.integers(0, 30)), max_size=12),
    escape_slash=st.booleans(),
)
def test_scrubbing_never_breaks_json_nor_lets_a_piece_through(which, parts, escape_slash):
    """Noise made of escape starters around token pieces: a JSON body stays JSON, and no
    10-character piece survives in its text or in its decoded values."""
    r = Redactor()
    r.add(ACCOUNT, which)
    values = []
    for p in parts:
        values.append(which[p : p + 12] if isinstance(p, int) else p)
    value = "".join(values) + which
    body = json.dumps({"v": value, "w": [value, value[::2]]})
    if escape_slash:
        body = body.replace("/", "\\/")
    scrubbed = r.scrub_bytes(body.encode()).decode()
    doc = json.loads(scrubbed)
    assert not recoverable(scrubbed, which)
    assert not recoverable(json.dumps(doc, ensure_ascii=False), which)
