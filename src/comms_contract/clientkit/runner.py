"""``check-client``: serve each scenario on a loopback port, run the driver, grade, report.

The driver protocol: the command gets ``COMMS_BASE_URL`` (the API root, no ``/v1``),
``COMMS_ACCOUNT_ID``, ``COMMS_AUTH_TOKEN`` and ``COMMS_LIST_PARAMS`` (a JSON object: the list
query), lists the operations, prints each id on its own line in the order received and exits
0; on an API error it exits non-zero. The credentials are fresh random values for each run, so
a driver cannot pass by accident with hard-coded ones.

The driver runs in a scrubbed environment (``driver_env``: an allow-list plus the ``COMMS_*``
variables and ``TZ`` the kit sets), in its own session and process group, which is killed at
the end of every scenario and when ``check-client`` is interrupted, so background children go
too (SIGINT, SIGTERM and SIGHUP raise ``RunInterrupted`` while the kit runs, so the kill in
``run_driver``'s ``finally`` always happens). Scenarios with dates or Retry-After run once per
time zone of ``zone_runs``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from comms_contract import __version__
from comms_contract.clientkit.clauses import client_clauses
from comms_contract.clientkit.grader import DriverRun, ScenarioResult, grade
from comms_contract.clientkit.scenarios import SCENARIOS, Scenario, ScenarioServer, scenario
from comms_contract.interrupt import SIGNALS, signals_end_run
from comms_contract.loopback import LoopbackServer
from comms_contract.printable import printable
from comms_contract.redact import REDACTOR, redact
from comms_contract.server.app import Credentials

DEFAULT_TIMEOUT = 30.0
MAX_OUTPUT = 64 * 1024 * 1024  # bytes of a driver's stdout read back (a runaway may print more)

# Variables a driver inherits from the user's environment (anything else is dropped: the
# user's real COMMS_AUTH_TOKEN for staging, cloud credentials, proxies). What a runtime needs
# to start and find its libraries, nothing that names a secret.
PASSED_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
    "JAVA_HOME",
    "NODE_PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "GOPATH",
    "GOROOT",
    "GOCACHE",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "GEM_HOME",
    "GEM_PATH",
    "DOTNET_ROOT",
)
PASSED_PREFIXES = ("LC_",)  # locale categories
EAST_ZONE = "Asia/Kolkata"  # +05:30 all year: a half-hour offset east of UTC
WEST_ZONES = ("America/New_York", "America/Santiago")  # one of them observes DST on any date
ZONEINFO = Path(os.environ.get("TZDIR") or "/usr/share/zoneinfo")


class UsageError(ValueError):
    """A mistake in the command line: one line on stderr, exit 2."""


def kit_credentials() -> Credentials:
    """Fresh credentials for one kit run (registered with the redactor: never printed)."""
    creds = Credentials("AC" + secrets.token_hex(16), "kit-" + secrets.token_urlsafe(18))
    REDACTOR.add(creds.account_id, creds.auth_token)
    return creds


class Switch:
    """One loopback server for the whole kit run, serving the current scenario's app (starting
    and stopping uvicorn per scenario would cost 0.2 s each)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)


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


def zone_runs(now: datetime | None = None) -> tuple[list[str], str]:
    """The TZ values a date or Retry-After scenario's driver runs under, and a note.

    East: Asia/Kolkata (+05:30). West: America/New_York when it observes DST on today's date
    and the past week (the scenarios' dates), else America/Santiago (southern summer). Without
    a time zone database a driver would silently run in UTC: the kit says so and runs once.
    """
    if not all((ZONEINFO / z).is_file() for z in (EAST_ZONE, *WEST_ZONES)):
        return ["UTC"], (
            f"no time zone database at {ZONEINFO} (install tzdata): date and Retry-After "
            "scenarios ran under TZ=UTC only, so host-time-zone mistakes were not tested"
        )
    from zoneinfo import ZoneInfo

    now = now or datetime.now(timezone.utc)
    days = (now, now - timedelta(days=7))
    west = next(
        (z for z in WEST_ZONES if all(d.astimezone(ZoneInfo(z)).dst() for d in days)),
        WEST_ZONES[0],
    )
    return [EAST_ZONE, west], ""


def driver_env(
    base_url: str,
    creds: Credentials,
    params: dict[str, Any],
    name: str,
    zone: str = "UTC",
    passed: Sequence[str] = (),
) -> dict[str, str]:
    """The driver's whole environment: an allow-list of the user's (``PASSED_ENV``, ``LC_*``
    and ``passed``), never a ``COMMS_*`` or proxy variable of the user's, plus the kit's own
    ``COMMS_*`` variables and ``TZ``."""
    keep = set(PASSED_ENV) | set(passed)
    env = {
        k: v
        for k, v in os.environ.items()
        if (k in keep or k.startswith(PASSED_PREFIXES)) and not k.upper().startswith("COMMS_")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(
        COMMS_BASE_URL=base_url,
        COMMS_ACCOUNT_ID=creds.account_id,
        COMMS_AUTH_TOKEN=creds.auth_token,
        COMMS_LIST_PARAMS=json.dumps(params),
        COMMS_SCENARIO=name,
        TZ=zone,
    )
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End the driver and everything it started in its process group (background children)."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    elif proc.poll() is None:  # pragma: no cover - no process groups
        proc.kill()


@contextmanager
def _held_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP while the driver is being started, then deliver them to
    the handlers in place before: an interruption inside ``Popen`` would otherwise leave the
    new process group running, untracked (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _f: held.append(signum)) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in held:
            signal.raise_signal(sig)


def _flooded(out: IO[bytes], err: IO[bytes]) -> str:
    """Why the driver's output is past what the kit keeps ("" when it is not): a driver that
    prints without end would fill the disk until its timeout (breaker, 2026-11-30: 3 GiB)."""
    for name, handle in (("stdout", out), ("stderr", err)):
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_OUTPUT:
            return f"having printed more than {MAX_OUTPUT >> 20} MiB on {name}"
    return ""


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read(MAX_OUTPUT).decode("utf-8", "replace")


def run_driver(
    command: Sequence[str],
    env: dict[str, str],
    timeout: float,
    server: ScenarioServer | None = None,
) -> DriverRun:
    """Run the driver once, in its own session; its process group is killed when it exits,
    past ``timeout``, when ``server`` flags a runaway or a hang, and on any interruption."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc: subprocess.Popen[bytes] | None = None
        timed_out, cut, cut_kind = False, "", ""
        try:
            with _held_signals():  # Ctrl-C while the driver starts: raised once it is tracked
                try:
                    proc = subprocess.Popen(  # noqa: S603 - the user's own driver command
                        list(command),
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=os.name == "posix",  # its own process group
                    )
                except OSError as exc:
                    raise UsageError(
                        f"cannot run the driver command {command[0]!r}: {exc.strerror}"
                    ) from None
            started_proc = proc
            wake = server.wake if server is not None else threading.Event()
            waiter = threading.Thread(target=lambda: (started_proc.wait(), wake.set()), daemon=True)
            waiter.start()
            deadline = started + timeout
            while proc.poll() is None:
                now = time.monotonic()
                if server is not None and (server.cut or server.check_stall(time.time())):
                    cut, cut_kind = server.cut, server.cut_kind
                    break
                if now >= deadline:
                    timed_out = True
                    break
                flood = _flooded(out, err)
                if flood:
                    cut, cut_kind = flood, "output"
                    break
                wake.wait(min(0.1, deadline - now))
                wake.clear()
        finally:
            if proc is not None:  # also on Ctrl-C: nothing the driver started outlives the kit
                with _held_signals():
                    _kill_group(proc)
                    proc.wait()
        if not (cut or timed_out) and _flooded(out, err):  # it printed it all before a poll
            cut, cut_kind = _flooded(out, err), "output"
        return DriverRun(
            exit_code=None if (timed_out or cut) else proc.returncode,
            timed_out=timed_out,
            output=_read(out).splitlines(),
            # redact, escape control characters line by line (a driver's ESC codes would
            # reach the user's terminal inside a verdict), then cut
            stderr_tail="\n".join(map(printable, redact(_read(err)).splitlines()))[-4000:],
            duration=time.monotonic() - started,
            cut=cut,
            cut_kind=cut_kind,
        )


@dataclass
class KitReport:
    """Every scenario's result; exit code 0 when all conform, 1 on any violation."""

    command: list[str]
    results: list[ScenarioResult] = field(default_factory=list)
    duration: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> int:
        return 0 if all(r.passed for r in self.results) else 1

    @property
    def failed(self) -> set[str]:
        return {cid for r in self.results for cid in r.failed}

    def result(self, name: str) -> ScenarioResult:
        """The first run of scenario ``name`` (date and Retry-After scenarios run per zone)."""
        return next(r for r in self.results if r.name == name)

    def runs(self, name: str) -> list[ScenarioResult]:
        return [r for r in self.results if r.name == name]

    def clause_summary(self) -> list[dict[str, Any]]:
        rows = []
        for c in client_clauses():
            failing = list(dict.fromkeys(r.label for r in self.results if c.id in r.failed))
            advised = list(dict.fromkeys(r.label for r in self.results if c.id in r.advisories))
            graded = list(
                dict.fromkeys(
                    r.label for r in self.results if r.verdict(c.id).status in ("pass", "advisory")
                )
            )
            status = "fail" if failing else "advisory" if advised else "pass" if graded else "n/a"
            rows.append(
                {
                    "id": c.id,
                    "level": c.level,
                    "status": status,
                    "statement": c.statement,
                    "failed_in": failing,
                    "advisory_in": advised,
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
            "notes": self.notes,
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
            text = printable(text)  # the driver's output and stderr, escaped before colouring
            code = {"pass": "32", "fail": "31", "n/a": "90", "advisory": "33"}.get(status, "0")
            return f"\x1b[{code}m{text}\x1b[0m" if colour else text

        lines = []
        for r in self.results:
            status = "pass" if r.passed else "fail"
            run = r.run.describe(stderr=False) if not r.run.cut else f"stopped ({r.run.cut_kind})"
            run += ";" if len(run) > 10 else ""  # "was killed ... without finishing; 1 request(s)"
            head = f"{status.upper():<4} {r.label:<46} {run:<10} "
            head += f"{len(r.hits) + r.dropped} request(s), {r.run.duration:.1f}s"
            lines.append(paint(head, status))
            for v in r.verdicts:
                if v.status in ("fail", "advisory"):
                    tag = "" if v.status == "fail" else "advisory: "
                    lines.append(paint(f"     {tag}{v.id}: {v.message}", v.status))
                    lines.extend(printable(f"         {e}") for e in v.evidence)
            for note in r.notes:
                lines.append(printable(f"     note: {note}"))
        lines.extend(printable(f"note: {note}") for note in self.notes)
        lines.append("")
        lines.append("clauses:")
        for row in self.clause_summary():
            where = f" (in {', '.join(row['failed_in'] or row['advisory_in'])})"
            where = where if row["failed_in"] or row["advisory_in"] else ""
            text = f"  {row['status'].upper():<8} {row['id']}{where}"
            lines.append(paint(text, row["status"]))
        n_fail = sum(not r.passed for r in self.results)
        verdict = "conforms" if self.code == 0 else f"{n_fail} scenario run(s) with violations"
        idle = sum(row["status"] == "n/a" for row in self.clause_summary())
        if idle:  # a subset of scenarios vouches only for what it exercised
            verdict += f"; {idle} clause(s) not exercised by these scenarios"
        advisories = sum(bool(r.advisories) for r in self.results)
        if advisories:
            verdict += f", {advisories} with advisories"
        lines.append(
            f"check-client: {len(self.results)} scenario run(s), {verdict} ({self.duration:.1f}s)"
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
    pass_env: Sequence[str] = (),
    zones: Sequence[str] | None = None,
) -> KitReport:
    """Run the driver once per scenario (per time zone for date and Retry-After scenarios:
    ``zones``, default ``zone_runs()``) and grade each run. ``pass_env``: more variable names
    the driver may inherit (never ``COMMS_*``)."""
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    for name in pass_env:
        if not name or "=" in name or name.upper().startswith("COMMS_"):
            raise UsageError(
                f"--pass-env {name!r}: give a variable name; COMMS_* variables are the kit's own"
            )
    command = resolve_command(command)
    chosen = select_scenarios(scenarios)
    report = KitReport([redact(c) for c in command])
    if zones is None:
        zone_list, note = zone_runs()
        if note and any(sc.zoned for sc in chosen):
            report.notes.append(note)
    else:
        zone_list = list(zones)
    started = time.monotonic()
    creds = kit_credentials()
    # the user's own token is not given to drivers, but one may find it (a config file, a
    # keychain) and print it: mask it in everything the kit writes
    REDACTOR.add("", os.environ.get("COMMS_AUTH_TOKEN", ""))
    switch = Switch()
    with signals_end_run(), LoopbackServer(switch) as srv:
        for sc in chosen:
            for zone in zone_list if sc.zoned else ["UTC"]:
                built = sc.build(creds, seed, "")
                switch.app = built.server
                env = driver_env(srv.base_url, creds, built.params, sc.name, zone, pass_env)
                try:
                    run = run_driver(command, env, timeout, built.server)
                finally:
                    switch.app = None
                log = built.server.log
                if not report.results and not log.hits and run.exit_code not in (0, None):
                    # the very first run failed before any request: the command, not the
                    # client's paging, is broken; grading it 28 times would say
                    # CLIENT-FOLLOW-NEXT 28 times (every scenario needs a first request)
                    raise UsageError(
                        f"the driver command made no request and {run.describe()} in the "
                        f"first scenario ({sc.name}): check the command and that it reads "
                        "COMMS_BASE_URL (docs/sdk-authors.md)"
                    )
                result = grade(sc, built, log.hits, run, log.dropped, zone if sc.zoned else "")
                report.results.append(result)
                if progress is not None:
                    progress(result)
    report.duration = time.monotonic() - started
    return report
