"""Clear errors: a target that cannot be tested ends the run with exit 2 (connecting is capped
at 10 s), one line on stderr that says what is wrong and how to fix it, and no traceback."""

from __future__ import annotations

import time

import pytest
from loopback import free_port, serve
from starlette.responses import HTMLResponse, JSONResponse

from comms_contract import cli

CREDS = ["--account-id", "ACclierrors", "--auth-token", "cli-errors-token"]


def run_cli(capsys, *args: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = cli.main(["run", *args, *CREDS])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    return code, out, err, elapsed


def assert_clear_error(code: int, out: str, err: str, elapsed: float, *needles: str) -> None:
    assert code == 2, (out, err)
    # a hang guard, not a performance assertion (timings are measured in benchmarks): on a
    # shared, loaded machine the in-process run's imports alone can take several seconds
    assert elapsed < 120
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("comms-contract: error: ")
    assert "Traceback" not in out + err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "cli-errors-token" not in out + err


def answer(response):
    """An ASGI app that answers every request with ``response()``; counts requests."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        app.requests += 1
        await response()(scope, receive, send)

    app.requests = 0
    return app


def test_unreachable_host(capsys):
    r = run_cli(capsys, "--base-url", f"http://127.0.0.1:{free_port()}")
    assert_clear_error(*r, "cannot connect", "is the server up")


def test_dns_failure(capsys):
    r = run_cli(capsys, "--base-url", "https://nonexistent.invalid")
    assert_clear_error(*r, "cannot resolve host 'nonexistent.invalid'", "DNS")


def test_tls_failure_against_plain_http_server(capsys):
    app = answer(lambda: JSONResponse({}))
    with serve(app) as base:
        r = run_cli(capsys, "--base-url", "https://" + base.removeprefix("http://"))
    assert_clear_error(*r, "TLS failure", "does not speak TLS")


@pytest.mark.parametrize("reset", [False, True], ids=["closes", "resets"])
def test_tls_to_a_listener_that_closes_at_once(capsys, reset):
    """Breaker, 2026-11-30: https:// to a port that accepts and closes read 'connection
    refused' (httpx's async ConnectError is empty; the reason is in its cause). A close with
    the ClientHello unread sends a reset (RFC 9293 section 3.6: a loaded machine, one run in
    ten of the self-tests): the same handshake cut short, said the same way."""
    import socket
    import struct
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def close_each() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if reset:  # linger 0: close with a reset, whatever the timing
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    threading.Thread(target=close_each, daemon=True).start()
    try:
        r = run_cli(capsys, "--base-url", f"https://127.0.0.1:{port}")
    finally:
        listener.close()
    assert_clear_error(*r, "TLS failure", "closed the connection during the TLS handshake")
    assert "refused" not in r[2]


@pytest.mark.parametrize("url", ["ftp://x", "https://", "mailto:a"])
def test_base_url_not_a_url(capsys, url):
    r = run_cli(capsys, "--base-url", url)
    assert_clear_error(*r, "not an http(s) URL")
    # refused at configuration time, before any request: tests/test_inputs.py counts them


def test_base_url_with_the_operations_path(capsys):
    r = run_cli(capsys, "--base-url", "https://comms.example/v1/PushNotifications/Operations")
    assert_clear_error(*r, "should be the API root")


def test_credentials_rejected_stops_early(capsys):
    body = {"code": 20003, "message": "Authentication Error", "more_info": "", "status": 401}
    app = answer(lambda: JSONResponse(body, status_code=401))
    with serve(app) as base:
        r = run_cli(capsys, "--base-url", base)
    assert_clear_error(*r, "credentials rejected", "COMMS_AUTH_TOKEN")
    assert app.requests <= 3


@pytest.mark.parametrize(
    ("status", "what"), [(404, "answered 404"), (200, "answered 200")], ids=["404", "proxy-200"]
)
def test_html_everywhere_is_not_this_api(capsys, status, what):
    app = answer(lambda: HTMLResponse("<html><body>Welcome</body></html>", status_code=status))
    with serve(app) as base:
        r = run_cli(capsys, "--base-url", base)
    assert_clear_error(*r, what, "not this API", "API root")
    assert app.requests <= 3


def test_plain_http_to_a_remote_host_is_refused_before_any_request(capsys):
    r = run_cli(capsys, "--base-url", "http://example.invalid")
    assert_clear_error(*r, "refusing to send credentials over plain http://", "--allow-insecure")


def test_credentials_inside_the_base_url_are_refused_without_echoing_them(capsys):
    r = run_cli(capsys, "--base-url", "https://ACx:url-s3cret@comms.example.invalid")
    assert_clear_error(*r, "must not carry credentials")
    assert "url-s3cret" not in r[1] + r[2]


def test_allow_insecure_http_proceeds_to_the_network(capsys):
    r = run_cli(capsys, "--base-url", "http://example.invalid", "--allow-insecure-http")
    assert_clear_error(*r, "cannot resolve host 'example.invalid'")


def test_connect_timeout_is_short_whatever_the_read_timeout():
    """A black-holed host must fail in 10 s, not after the 30 s per-request default."""
    from comms_contract.http import ClientSettings, ContractClient, Target
    from comms_contract.ledger import Ledger

    client = ContractClient(Target("https://api.example", "AC1", "tok1"), Ledger())
    try:
        timeout = client.timeout
        assert timeout.connect == 10.0 and timeout.read == ClientSettings().timeout == 30.0
    finally:
        client.close()


def test_a_folder_given_as_the_configuration_file_is_named_as_a_folder(capsys, tmp_path):
    """Breaker finding: ``--config some/folder`` said "does not exist" about a folder that does."""
    code, out, err, elapsed = run_cli(
        capsys, "--base-url", "http://127.0.0.1:9", "--config", str(tmp_path)
    )
    assert_clear_error(code, out, err, elapsed, "is a folder", str(tmp_path))


def test_a_device_given_as_the_configuration_file_is_not_said_to_be_missing(capsys):
    """Breaker, 2026-11-30: ``--config /dev/null`` said "does not exist"."""
    code, out, err, elapsed = run_cli(
        capsys, "--base-url", "http://127.0.0.1:9", "--config", "/dev/null"
    )
    assert_clear_error(code, out, err, elapsed, "is not a regular file", "/dev/null")


def test_an_unreachable_target_is_named_before_the_suite_is_collected(capsys, monkeypatch):
    """The preflight runs before collection: a connection error costs no collection time."""
    import _pytest.main

    collected = []
    real = _pytest.main.Session.perform_collect
    monkeypatch.setattr(
        _pytest.main.Session,
        "perform_collect",
        lambda self, *a, **k: collected.append(1) or real(self, *a, **k),
    )
    code, out, err, elapsed = run_cli(capsys, "--base-url", f"http://127.0.0.1:{free_port()}")
    assert_clear_error(code, out, err, elapsed, "cannot connect")
    assert not collected, "the suite was collected before the target was checked"


def test_a_settings_file_nested_too_deeply_is_one_line(capsys, tmp_path):
    """Breaker finding: ``a = [[[...]]]`` 1,000 deep printed a 3,000-line RecursionError."""
    deep = tmp_path / "comms-contract.toml"
    deep.write_text("a = " + "[" * 1000 + "]" * 1000 + "\n")
    code, out, err, elapsed = run_cli(
        capsys, "--base-url", "http://127.0.0.1:9", "--config", str(deep)
    )
    assert_clear_error(code, out, err, elapsed, "nested too deeply")


def test_a_server_that_closes_after_each_answer_passes(capsys):
    """Breaker, 2026-11-30: a server that closes the connection after each complete answer,
    without "Connection: close" (RFC 9112 section 9.6 lets it; load balancers with short
    keep-alive timeouts do), failed NO-5XX: the next request on the kept-alive connection got
    "Server disconnected without sending a response". A GET is sent once more on a new
    connection (section 9.3.1), and the conformant server passes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    from comms_contract.server import ReferenceServer
    from comms_contract.server.app import Credentials
    from comms_contract.transport import ASGISyncTransport

    inner = httpx.Client(transport=ASGISyncTransport(ReferenceServer(seed=1)), base_url="http://x")
    lock = threading.Lock()

    class CloseAfterEach(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            with lock:
                r = inner.get(
                    self.path, headers={"authorization": self.headers["authorization"] or ""}
                )
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)
            self.close_connection = True  # closed after the answer, no "Connection: close"

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CloseAfterEach)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    creds = Credentials()
    try:
        code = cli.main(
            [
                *("run", "--base-url", f"http://127.0.0.1:{server.server_address[1]}"),
                *("--account-id", creds.account_id, "--auth-token", creds.auth_token),
                *("--profile", "quick", "--workers", "4"),
            ]
        )
    finally:
        server.shutdown()
        server.server_close()
    out, err = capsys.readouterr()
    assert code == 0, out[-3000:] + err


def test_a_missing_dependency_is_one_line_not_a_traceback():
    """Seen on 2026-11-30: comms-contract installed with ``pip install --no-deps`` ended in a
    traceback ('No module named httpx'). The console script names the missing dependency."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['httpx'] = None\n"  # import httpx now fails, as when absent
        "from comms_contract.entry import main\n"
        "sys.exit(main(['run', '--profile', 'quick']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "its dependency 'httpx' is not installed" in proc.stderr
