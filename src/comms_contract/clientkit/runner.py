"""``check-client``: serve each scenario on a loopback port, run the driver, grade, report.

The driver protocol: the command gets ``COMMS_BASE_URL`` (the API root, no ``/v1``),
``COMMS_ACCOUNT_ID``, ``COMMS_AUTH_TOKEN`` and ``COMMS_LIST_PARAMS`` (a JSON object: the list
query), lists the operations, prints each id on its own line in the order received and exits
0; on an API error it exits non-zero. The credentials are fresh random values for each run, so
a driver cannot pass by accident with hard-coded ones.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comms_contract import __version__
from comms_contract.clientkit.clauses import client_clauses
from comms_contract.clientkit.grader import DriverRun, ScenarioResult, grade
from comms_contract.clientkit.scenarios import SCENARIOS, Scenario, scenario
from comms_contract.redact import REDACTOR, redact
from comms_contract.server.app import Credentials

DEFAULT_TIMEOUT = 30.0


class UsageError(ValueError):
    """A mistake in the command line: one line on stderr, exit 2."""


def kit_credentials() -> Credentials:
    """Fresh credentials for one kit run (registered with the redactor: never printed)."""
    creds = Credentials("AC" + secrets.token_hex(16), "kit-" + secrets.token_urlsafe(18))
    REDACTOR.add(creds.account_id, creds.auth_token)
    return creds


class LoopbackServer:
    """An ASGI app under uvicorn in a daemon thread, on 127.0.0.1 and a free port."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="error",  # a driver's h2c upgrade offer is not the kit's business
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the scenario server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._sock.close()


def resolve_command(command: Sequence[str]) -> list[str]:
    """The command with its program checked up front (a missing one is a usage error)."""
    if not command:
        raise UsageError("no driver command given: check-client [options] -- CMD [ARG ...]")
    program = command[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program)
        if not path.exists():
            raise UsageError(f"driver command not found: {program}")
        if not os.access(path, os.X_OK) or path.is_dir():
            raise UsageError(f"driver command is not executable: {program}")
        return list(command)
    if shutil.which(program) is None:
        raise UsageError(f"driver command not found on PATH: {program}")
    return list(command)


def run_driver(command: Sequence[str], env: dict[str, str], timeout: float) -> DriverRun:
    """Run the driver once; past ``timeout`` its whole process group is killed."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(  # noqa: S603 - the user's own driver command, run as given
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",  # its own process group: killed as one
        )
    except OSError as exc:
        raise UsageError(f"cannot run the driver command {command[0]!r}: {exc.strerror}") from None
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - no process groups
                proc.kill()
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    text = out.decode("utf-8", "replace")
    return DriverRun(
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        output=text.splitlines(),
        stderr_tail=redact(err.decode("utf-8", "replace"))[-4000:],  # redact, then cut
        duration=time.monotonic() - started,
    )


def driver_env(base_url: str, creds: Credentials, params: dict[str, Any], name: str) -> dict:
    env = dict(os.environ)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(var, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(
        COMMS_BASE_URL=base_url,
        COMMS_ACCOUNT_ID=creds.account_id,
        COMMS_AUTH_TOKEN=creds.auth_token,
        COMMS_LIST_PARAMS=json.dumps(params),
        COMMS_SCENARIO=name,
    )
    return env


@dataclass
class KitReport:
    """Every scenario's result; exit code 0 when all conform, 1 on any violation."""

    command: list[str]
    results: list[ScenarioResult] = field(default_factory=list)
    duration: float = 0.0

    @property
    def code(self) -> int:
        return 0 if all(r.passed for r in self.results) else 1

    @property
    def failed(self) -> set[str]:
        return {cid for r in self.results for cid in r.failed}

    def result(self, name: str) -> ScenarioResult:
        return next(r for r in self.results if r.name == name)

    def clause_summary(self) -> list[dict[str, Any]]:
        rows = []
        for c in client_clauses():
            failing = [r.name for r in self.results if c.id in r.failed]
            graded = [r.name for r in self.results if r.verdict(c.id).status == "pass"]
            status = "fail" if failing else ("pass" if graded else "n/a")
            rows.append(
                {
                    "id": c.id,
                    "level": c.level,
                    "status": status,
                    "statement": c.statement,
                    "failed_in": failing,
                    "passed_in": graded,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        doc = {
            "tool": {"name": "comms-contract check-client", "version": __version__},
            "command": self.command,
            "result": "pass" if self.code == 0 else "fail",
            "duration_s": round(self.duration, 3),
            "clauses": self.clause_summary(),
            "scenarios": [r.to_json() for r in self.results],
        }
        return json.loads(redact(json.dumps(doc)))

    def write_json(self, path: str) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def terminal_lines(self, colour: bool = False) -> list[str]:
        def paint(text: str, status: str) -> str:
            code = {"pass": "32", "fail": "31", "n/a": "90"}.get(status, "0")
            return f"\x1b[{code}m{text}\x1b[0m" if colour else text

        lines = []
        for r in self.results:
            status = "pass" if r.passed else "fail"
            head = f"{status.upper():<4} {r.name:<22} {r.run.describe(stderr=False):<10} "
            head += f"{len(r.hits) + r.dropped} request(s), {r.run.duration:.1f}s"
            lines.append(paint(head, status))
            for v in r.verdicts:
                if v.status == "fail":
                    lines.append(paint(f"     {v.id}: {v.message}", "fail"))
                    lines.extend(f"         {e}" for e in v.evidence)
            for note in r.notes:
                lines.append(f"     note: {note}")
        lines.append("")
        lines.append("clauses:")
        for row in self.clause_summary():
            where = f" (in {', '.join(row['failed_in'])})" if row["failed_in"] else ""
            lines.append(paint(f"  {row['status'].upper():<4} {row['id']}{where}", row["status"]))
        n_fail = sum(not r.passed for r in self.results)
        verdict = "conforms" if self.code == 0 else f"{n_fail} scenario(s) with violations"
        lines.append(
            f"check-client: {len(self.results)} scenario(s), {verdict} ({self.duration:.1f}s)"
        )
        return [redact(line) for line in lines]


def select_scenarios(names: Sequence[str] | None) -> list[Scenario]:
    chosen = [n.strip() for item in names or () for n in item.split(",") if n.strip()]
    if not chosen:
        return list(SCENARIOS.values())
    unknown = [n for n in chosen if n not in SCENARIOS]
    if unknown:
        raise UsageError(
            f"unknown scenario(s): {', '.join(unknown)} (choose from: {', '.join(SCENARIOS)})"
        )
    return [scenario(n) for n in dict.fromkeys(chosen)]


def run_kit(
    command: Sequence[str],
    scenarios: Sequence[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    seed: int = 0,
    progress: Callable[[ScenarioResult], None] | None = None,
) -> KitReport:
    """Run the driver once per scenario and grade each run."""
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    command = resolve_command(command)
    chosen = select_scenarios(scenarios)
    report = KitReport([redact(c) for c in command])
    started = time.monotonic()
    creds = kit_credentials()
    # the user's own token is not given to drivers, but one may find it (a config file, a
    # keychain) and print it: mask it in everything the kit writes
    REDACTOR.add("", os.environ.get("COMMS_AUTH_TOKEN", ""))
    for sc in chosen:
        built = sc.build(creds, seed, "")
        with LoopbackServer(built.server) as srv:
            env = driver_env(srv.base_url, creds, built.params, sc.name)
            run = run_driver(command, env, timeout)
        log = built.server.log
        result = grade(sc, built, log.hits, run, log.dropped)
        report.results.append(result)
        if progress is not None:
            progress(result)
    report.duration = time.monotonic() - started
    return report
