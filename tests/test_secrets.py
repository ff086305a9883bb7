"""Secrets: a failing run against a live loopback server that requires a sentinel token, and
echoes the Authorization header into its error bodies, must not leak the token (in any form)
into stdout, stderr, pytest failure text, hypothesis' falsifying examples or any report.
pageToken values are not secrets and stay visible in repro commands."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from urllib.parse import quote_plus

import httpx
import pytest
from leaks import cli_run, recoverable
from loopback import serve
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from comms_contract import OPERATIONS_PATH, cli
from comms_contract.config import CREDENTIALS_ON_ARGV
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError, Credentials

ACCOUNT = "ACsentinel00000000000000000000042"
TOKEN = "s3ntinel-TOKEN-9f8e7d"
PAIR = f"{ACCOUNT}:{TOKEN}"
B64 = base64.b64encode(PAIR.encode()).decode()
FORMS = {
    "token": TOKEN,
    "account:token": PAIR,
    "base64": B64,
    "base64 unpadded": B64.rstrip("="),
    "base64 urlsafe": base64.urlsafe_b64encode(PAIR.encode()).decode().rstrip("="),
    "hex": TOKEN.encode().hex(),
    "HEX of account:token": PAIR.encode().hex().upper(),
}
# NO-5XX also selects the forged-token tests (a pageToken in the repro); TOKEN-GARBAGE is
# left out because it selects the walk state machine, whose shrinking against a server this
# broken runs into hypothesis' 5-minute cap
CLAUSES = "AUTH,NO-5XX,ERROR-BODY,STATUS-ENUM,SIZE-RANGE"


class LeakyServer(ReferenceServer):
    """Mutant: 500 on any status filter or unknown token, and every error body is plain text
    quoting the request's Authorization header and the decoded credentials (ERROR-BODY)."""

    def respond(self, request: Request) -> Response:
        self._auth = request.headers.get("authorization", "")
        return super().respond(request)

    def parse_status(self, raw: str | None) -> str | None:
        if raw is not None:
            raise ApiError(500, 20500, "status broke the server")
        return raw

    def decode_token(self, token: str):
        try:
            return super().decode_token(token)
        except ApiError:
            raise ApiError(500, 20500, f"could not decode pageToken {token[:60]}") from None

    def error(self, err: ApiError) -> Response:
        decoded = ""
        if self._auth.lower().startswith("basic "):
            decoded = base64.b64decode(self._auth[6:] + "==").decode("utf-8", "replace")
        text = (
            f"Authorization: {self._auth} = {decoded} (token {decoded.partition(':')[2]}) "
            f"was refused: {err.message}"
        )
        return PlainTextResponse(text, status_code=err.status, headers=err.headers)


def leaky() -> LeakyServer:
    return LeakyServer(credentials=Credentials(ACCOUNT, TOKEN), seed=5)


def assert_no_secret(where: str, text: str) -> None:
    for name, form in FORMS.items():
        assert form not in text, f"{name} leaked into {where}"
    assert not recoverable(text, TOKEN), f"{where}: {recoverable(text, TOKEN)}"  # any piece


def _alter(token: str) -> str:
    """contracts/test_tokens.py's 'one character changed' forgery."""
    mid = len(token) // 2
    return token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1 :]


def _forged_token_in_repro(base: str) -> str:
    """The 'one character changed' forgery of the first page's token, as the URL carries it."""
    page = httpx.get(base + OPERATIONS_PATH, auth=(ACCOUNT, TOKEN)).json()["pagination"]
    return "pageToken=" + quote_plus(_alter(page["next"] or page["self"]))


@pytest.fixture(scope="module")
def subprocess_run(tmp_path_factory):
    """The installed CLI in a subprocess, credentials from the environment (the CI way)."""
    out = tmp_path_factory.mktemp("secrets")
    with serve(leaky()) as base:
        proc = cli_run(base, ACCOUNT, TOKEN, out, clauses=CLAUSES, seed=11, timeout=120)
        forged = _forged_token_in_repro(base)
    return proc, out, forged


def test_failing_run_leaks_no_secret(subprocess_run):
    proc, out, _ = subprocess_run
    assert proc.returncode == 1, proc.stderr[-2000:]
    # the run really failed, with pytest failure text and repro commands
    assert re.search(r"clauses violated: .*NO-5XX", proc.stdout)
    assert "--seed 11 --clause" in proc.stdout
    assert "[REDACTED]" in proc.stdout + (out / "r.json").read_text()  # the echo was caught
    assert_no_secret("stdout", proc.stdout)
    assert_no_secret("stderr", proc.stderr)
    artifacts = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in artifacts} >= {"r.json", "j.xml", "r.html"}
    for path in artifacts:
        assert_no_secret(path.name, path.read_text(encoding="utf-8", errors="replace"))


def test_page_tokens_stay_visible_in_repro_commands(subprocess_run):
    _, out, forged = subprocess_run
    doc = json.loads((out / "r.json").read_text())
    evidence = [e["curl"] for c in doc["clauses"] for e in c["evidence"]]
    repro = [e for e in evidence if e.startswith("curl") and forged in e]
    assert repro, f"{forged} not in any repro command"
    assert '"$COMMS_ACCOUNT_ID:$COMMS_AUTH_TOKEN"' in repro[0]


def test_token_on_argv_in_process_leaks_nowhere(capsys, tmp_path):
    """cli.main in-process, token given on the command line (discouraged but possible)."""
    with serve(leaky()) as base:
        code = cli.main(
            [
                *("run", "--base-url", base, "--account-id", ACCOUNT, "--auth-token", TOKEN),
                *("--profile", "quick", "--clause", "NO-5XX,ERROR-BODY", "-v"),
                *("--report-json", str(tmp_path / "r.json")),
                *("--junit-xml", str(tmp_path / "j.xml")),
                *("--report-html", str(tmp_path / "r.html")),
            ]
        )
    captured = capsys.readouterr()
    assert code == 1
    assert "clauses violated" in captured.out
    # said once the run is over, as the plugin does in pytest's warnings (breaker, 2026-11-30)
    assert captured.err.splitlines()[-1] == f"comms-contract: warning: {CREDENTIALS_ON_ARGV}"
    assert_no_secret("stdout", captured.out)
    assert_no_secret("stderr", captured.err)
    for path in tmp_path.iterdir():
        assert_no_secret(path.name, path.read_text())


def test_a_token_from_the_environment_draws_no_warning(capsys, monkeypatch):
    monkeypatch.setenv("COMMS_AUTH_TOKEN", ReferenceServer().credentials.auth_token)
    monkeypatch.setenv("COMMS_ACCOUNT_ID", ReferenceServer().credentials.account_id)
    with serve(ReferenceServer()) as base:
        code = cli.main(["run", "--base-url", base, "--profile", "quick", "--clause", "AUTH"])
    assert code == 0
    assert "warning" not in capsys.readouterr().err


def test_rejected_credentials_message_leaks_nothing(capsys):
    with serve(leaky()) as base:
        code = cli.main(
            ["run", "--base-url", base, "--account-id", ACCOUNT, "--auth-token", TOKEN + "x"]
        )
    captured = capsys.readouterr()
    assert code == 2 and "credentials rejected" in captured.err
    for form in (TOKEN + "x", base64.b64encode(f"{ACCOUNT}:{TOKEN}x".encode()).decode()):
        assert form not in captured.out + captured.err


HYPOTHESIS_MODULE = f"""
import pytest
from hypothesis import given, settings, strategies as st

from comms_contract.ledger import ClauseViolations, Finding

SECRET = {TOKEN!r}


@pytest.mark.clause("NO-5XX")
@settings(database=None, max_examples=20, derandomize=True)
@given(value=st.sampled_from(["harmless-a", "harmless-b", SECRET]))
def test_leaky_property(comms, value):
    print("captured stdout:", value)
    if value == SECRET:
        raise ClauseViolations([Finding("NO-5XX", "broke on " + value, ("sent " + value,))])
"""


def test_hypothesis_falsifying_examples_are_redacted(tmp_path, capsys, monkeypatch):
    """A property drawing the secret itself: its falsifying example is printed redacted."""
    import pytest as inner

    (tmp_path / "test_leaky.py").write_text(HYPOTHESIS_MODULE)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.json"
    code = inner.main(
        [
            *(str(tmp_path / "test_leaky.py"), "-p", "no:cacheprovider", "-rA", "--tb=long"),
            *("--comms-account-id", ACCOUNT, "--comms-auth-token", TOKEN),
            *("--comms-report-json", str(report), "--comms-junit-xml", str(tmp_path / "j.xml")),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    # hypothesis' report of the failing example, and the traceback's view of the drawn value
    assert "Failing test case" in out or "Falsifying example" in out
    assert "value = '[REDACTED]'" in out and "broke on [REDACTED]" in out
    assert "captured stdout: [REDACTED]" in out
    assert_no_secret("pytest output", out + err)
    for path in (report, tmp_path / "j.xml"):
        assert_no_secret(path.name, path.read_text())


def test_curl_repro_reads_credentials_from_the_environment():
    from comms_contract.http import Exchange

    ex = Exchange(
        "GET",
        "https://x" + OPERATIONS_PATH,
        [("pageToken", "a+b/c=")],
        500,
        httpx.Headers(),
        b"",
        True,
    )
    assert ex.curl().endswith("'https://x/v1/PushNotifications/Operations?pageToken=a%2Bb%2Fc%3D'")
    assert "$COMMS_AUTH_TOKEN" in ex.curl()


def test_redactor_covers_every_form():
    from comms_contract.redact import REDACTOR, redact

    REDACTOR.add(ACCOUNT, TOKEN)
    text = " | ".join(FORMS.values()) + f" | Authorization: Basic {B64} | authorization=Bearer xyz"
    cleaned = redact(text)
    assert_no_secret("redacted text", cleaned)
    assert "xyz" not in cleaned


def test_responses_are_scrubbed_as_they_arrive():
    """The Exchange never holds the token: body, header names and values are masked at
    ingress, and neither the Exchange nor the Target repr shows it (pytest -l prints both)."""
    from comms_contract.http import ContractClient, Target
    from comms_contract.ledger import Ledger

    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        body = json.dumps({"operations": [], "pagination": {"self": "x"}, "echo": [auth, TOKEN]})
        headers = {"X-Echo": auth, f"X-{TOKEN.replace('-', '')}": quote_plus(TOKEN)}
        return httpx.Response(200, headers=headers, content=body.replace("/", "\\/"))

    target = Target("http://127.0.0.1:9", ACCOUNT, TOKEN)
    client = ContractClient(target, Ledger(), transport=httpx.MockTransport(echo))
    ex = client.get([("pageSize", "1")])
    raw = ex.body.decode() + repr(ex.headers.raw) + repr(ex) + repr(target) + repr(client.target)
    assert_no_secret("exchange", raw)
    assert "s3ntinel" not in raw.lower() and "[REDACTED]" in ex.body.decode()
    assert ex.json()["pagination"] == {"self": "x"}  # still JSON
    assert repr(ex).startswith("Exchange(GET http://127.0.0.1:9/") and len(repr(ex)) < 200


def test_ordinary_pages_are_left_alone():
    """No false masks: a 1000-item page of the reference server, scrubbed with a hex token
    (the shape of a Twilio token) and with the demo token registered, is unchanged."""
    from comms_contract.redact import Redactor
    from comms_contract.transport import ASGISyncTransport

    app = ReferenceServer(seed=3)
    creds = ("ACtest00000000000000000000000000", "mock-7f3e9c1a5b2d8046")
    with httpx.Client(transport=ASGISyncTransport(app), base_url="http://x") as c:
        body = c.get(OPERATIONS_PATH, params={"pageSize": "1000"}, auth=creds)
    assert len(body.json()["operations"]) > 100
    redactor = Redactor()
    redactor.add(ACCOUNT, "0f3c9a7be14d2860c5fa9b371de0486a")
    redactor.add(ACCOUNT, "mock-7f3e9c1a5b2d8046")
    assert redactor.scrub_bytes(body.content) == body.content


def test_short_tokens_are_refused_beyond_loopback():
    from comms_contract.http import ConfigError, Target

    short = "fifteen-chars15"
    with pytest.raises(ConfigError, match="shorter than 16") as err:
        Target("https://api.example", "AC1", short).validate()
    assert short not in str(err.value)
    Target("http://127.0.0.1:8080", "AC1", short).validate()  # loopback: a test server
    Target("http://127.0.0.1:8080", "AC1", "abc").validate()
    assert Target(None, "AC1", "abc").unredacted_warning is not None
    assert Target(None, "AC1", "abcd").unredacted_warning is None


def test_usage_errors_never_quote_a_query(capsys):
    secret = "url-borne-secret-5f2a9c"
    for url in (f"https://api.example/?auth={secret}", f"ftp://api.example/{secret}#{secret}"):
        code = cli.main(["run", "--base-url", url, "--account-id", ACCOUNT, "--auth-token", secret])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert "url-borne" not in err and "5f2a9c" not in err, err


def test_an_echo_is_noted_on_auth():
    """A target that echoes the credentials is told so (a notice on AUTH, shown whole in every
    report whatever AUTH's status), not silently masked."""
    from comms_contract.http import ECHOED, ContractClient, Target
    from comms_contract.ledger import Ledger

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-Debug": TOKEN}, json={"ok": True})

    def quiet(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    for handler, noted in ((quiet, False), (echo, True)):
        ledger = Ledger()
        target = Target("http://127.0.0.1:9", ACCOUNT, TOKEN)
        ex = ContractClient(target, ledger, transport=httpx.MockTransport(handler)).get([])
        assert (ECHOED in ledger.notices.get("AUTH", [])) is noted
        assert ex.headers.get("x-debug") in (None, "[REDACTED]")


def test_kit_masks_a_users_token_a_driver_prints(monkeypatch):
    """check-client drivers never get COMMS_AUTH_TOKEN, but one may find the user's token
    elsewhere and print it: the kit's reports mask it (and the kit's own mock secret)."""
    from comms_contract.clientkit import run_kit

    user_token = "user-staging-token-8e1f0c2d9b"
    monkeypatch.setenv("COMMS_AUTH_TOKEN", user_token)
    from comms_contract.clientkit import UsageError

    driver = (
        "import os, sys\n"
        f"print('found {user_token}', os.environ['COMMS_AUTH_TOKEN'], file=sys.stderr)\n"
        f"print('{user_token}')\n"
        "sys.exit(int(sys.argv[1]))\n"
    )
    # exit 0 without a request: graded (CLIENT-FOLLOW-NEXT), what it printed in the reports
    report = run_kit([sys.executable, "-c", driver, "0"], ["multi-page"], timeout=60)
    text = json.dumps(report.to_json()) + "\n".join(report.terminal_lines())
    assert report.code == 1 and "[REDACTED]" in text
    assert "8e1f0c2d9b" not in text and "user-staging" not in text
    # exit 3 without a request: a usage error quoting its stderr, masked too
    with pytest.raises(UsageError) as refused:
        run_kit([sys.executable, "-c", driver, "3"], ["multi-page"], timeout=60)
    assert "[REDACTED]" in str(refused.value) and "8e1f0c2d9b" not in str(refused.value)
    assert os.environ["COMMS_AUTH_TOKEN"] == user_token  # the user's own, untouched


def test_a_token_too_short_to_mask_is_announced(capsys):
    """A 3-character token (loopback only) cannot be masked: the run says so, up front."""
    app = ReferenceServer(credentials=Credentials(ACCOUNT, "abc"), seed=5)
    with serve(app) as base:
        code = cli.main(
            [
                *("run", "--base-url", base, "--account-id", ACCOUNT, "--auth-token", "abc"),
                *("--profile", "quick", "--clause", "AUTH"),
            ]
        )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning: the auth token has 3 characters" in err and "NOT masked" in err
