"""comms-contract: run the conformance suite, serve the reference server, list the clauses.

``run`` is a thin front over pytest: it builds the run's settings, runs the packaged contract
tests once in-process and turns the per-clause ledger into an exit code (``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from comms_contract import __version__, catalog
from comms_contract.config import (
    CREDENTIALS_ON_ARGV,
    SETTINGS,
    Setting,
    build_run_config,
    check_report_path,
    convert,
    values_from,
)
from comms_contract.http import ConfigError
from comms_contract.interrupt import SIGNALS, RunInterrupted, signals_end_run
from comms_contract.interrupt import exit_code as interrupt_exit_code
from comms_contract.printable import printable
from comms_contract.server.app import Credentials

if TYPE_CHECKING:
    import pytest

EXIT_OK, EXIT_VIOLATION, EXIT_ERROR = 0, 1, 2
EXIT_CODES = """exit codes:
  0        no MUST clause violated (advisories and skips do not fail a run)
  1        at least one MUST clause violated (the table above the verdict names them)
  2        usage, configuration or connection error: one line on stderr, before any request
           when it is about the input
  130      interrupted by SIGINT (Ctrl-C); the reports say "interrupted"
  128+N    interrupted by signal N: 143 SIGTERM (a CI cancel), 129 SIGHUP"""
SERVE_PORT = Setting(
    "port", "int", "TCP port to listen on; 0 picks a free one (default 8080)", 8080, 0, 65535
)
SERVE_COUNT = Setting(
    "count", "int", "operations in the generated dataset, 0-100000 (default 160)", 160, 0, 100_000
)
SEED = Setting("seed", "int", "dataset and scenario seed (default 0)", 0, 0, 2**32 - 1)
KIT_TIMEOUT = Setting(
    "timeout",
    "seconds",
    "seconds per scenario before the driver is killed, > 0 (default 30)",
    30.0,
    0,
    3600,
    positive=True,
    metavar="SECONDS",
)


class Preset:
    """Hands a ready RunConfig to the plugin and keeps the finished session for the runner."""

    def __init__(self, run_config) -> None:
        self.run_config = run_config
        self.session = None

    def pytest_configure(self, config: pytest.Config) -> None:
        """Two savings for a run whose pytest output nobody reads (measured per mutant run).

        - Without the terminal plugin (a default run) no traceback style is set and pytest
          would build its long one, parsing the source of every frame of a failing test, for
          a report the plugin replaces with the findings: "line" (0.06 s a failing test).
        - No full garbage collection when the session ends: pytest 9 does two to surface
          unraisable exceptions of objects left in reference cycles (0.1-0.2 s a run, more
          in a process that runs the suite many times, as the self-tests do). Unraisable
          exceptions raised during the run are still caught."""
        if getattr(config.option, "tbstyle", None) is None:
            config.option.tbstyle = "line"
        try:
            from _pytest.unraisableexception import gc_collect_iterations_key
        except ImportError:  # another pytest: keep its default
            return
        config.stash[gc_collect_iterations_key] = 0


class OneLineParser(argparse.ArgumentParser):
    """Usage errors on one line (exit 2), like every other input error of the tool."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"comms-contract: error: {message} (see '{self.prog} --help')\n")


DESCRIPTION = (
    "comms-contract: run the conformance suite, serve the reference server, list the clauses."
)


def build_parser() -> argparse.ArgumentParser:
    # __doc__ is None under python -OO
    p = OneLineParser(prog="comms-contract", description=(__doc__ or DESCRIPTION).splitlines()[0])
    p.add_argument("--version", action="version", version=f"comms-contract {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser(
        "run",
        help="run the conformance suite (default target: the embedded reference server)",
        description="Run the conformance suite against --base-url (default: the embedded "
        "reference server) and print one line per clause, the verdict last.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for setting in SETTINGS:
        r.add_argument(f"--{setting.name}", **setting.option_kwargs())
    r.add_argument(
        "--config",
        metavar="PATH",
        help="settings file (default: ./comms-contract.toml or [tool.comms-contract] in "
        "./pyproject.toml); command-line options win",
    )
    r.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show pytest's per-test lines, short Python frames of failing checks "
        "and every finding (default: a few examples per failing clause)",
    )

    creds = Credentials()
    s = sub.add_parser(
        "serve",
        help="run the reference server (or one client-kit scenario) on a local port",
        description="Serve the reference implementation over HTTP until Ctrl-C. Its "
        "credentials are the mock's own, not a secret. Exit 2 if the port cannot be bound.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    for setting in (SERVE_PORT, SERVE_COUNT, SEED):
        s.add_argument(f"--{setting.name}", **setting.option_kwargs())
    s.add_argument(
        "--account-id",
        default=creds.account_id,
        metavar="ID",
        help=f"HTTP Basic user the server accepts (default {creds.account_id})",
    )
    s.add_argument(
        "--auth-token",
        default=creds.auth_token,
        metavar="TOKEN",
        help=f"HTTP Basic secret the server accepts (default {creds.auth_token})",
    )
    s.add_argument(
        "--scenario",
        metavar="NAME",
        help="serve one client-kit scenario (see 'check-client --list') instead of the plain "
        "reference server",
    )
    s.add_argument(
        "--request-log",
        metavar="PATH",
        help="with --scenario: append one JSON line per request to PATH ('-': stdout)",
    )

    k = sub.add_parser(
        "check-client",
        help="grade an SDK's paginator: run a driver program against every client scenario",
        description="Run CMD once per scenario with COMMS_BASE_URL, COMMS_ACCOUNT_ID, "
        "COMMS_AUTH_TOKEN and COMMS_LIST_PARAMS set; CMD prints each id on its own line and "
        "exits 0, or exits non-zero on an API error. Exit 0: conforms; 1: a violation; 2: usage.",
    )
    k.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these scenarios (repeatable or comma-separated; default: all)",
    )
    k.add_argument("--report-json", metavar="PATH", help="write the JSON report to PATH")
    for setting in (KIT_TIMEOUT, SEED):
        k.add_argument(f"--{setting.name}", **setting.option_kwargs())
    k.add_argument(
        "--pass-env",
        action="append",
        default=[],
        metavar="NAME",
        help="let the driver inherit this variable too (repeatable; the driver's environment "
        "is otherwise an allow-list, never your COMMS_* variables)",
    )
    k.add_argument("--list", action="store_true", help="list the scenarios and clauses, then exit")
    k.add_argument("driver", nargs=argparse.REMAINDER, help="-- CMD [ARG ...]")

    c = sub.add_parser("clauses", help="print the clause catalog")
    c.add_argument("--markdown", action="store_true", help="as the docs/clauses.md table")
    return p


def checked(args: argparse.Namespace, *settings: Setting) -> None:
    """Convert and range-check ``settings`` in ``args`` in place (defaults when unset)."""
    for setting in settings:
        value = getattr(args, setting.attr)
        if value is None:
            value = setting.default
        else:
            value = convert(setting, value, f"--{setting.name}")
        setattr(args, setting.attr, value)


def run_config_from_args(args: argparse.Namespace):
    """The checked RunConfig for ``run``'s options (the plugin uses the same builder)."""
    return build_run_config(values_from(args), prefix="--", config_file=args.config)


def hypothesis_cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/comms-contract/hypothesis`` (``~/.cache/...`` by default), created if
    needed; None when it cannot be written (a read-only home, say)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "comms-contract", "hypothesis")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


# environment variables through which a caller's pytest settings would reach the run
CALLERS_PYTEST_ENVIRONMENT = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    "PYTEST_DEBUG",
)


@contextmanager
def own_pytest_environment() -> Iterator[None]:
    """While the run's pytest starts: none of the caller's pytest settings, and no plugin
    but the suite's (entry-point autoloading off); the caller's values come back after.

    A CI job's ``PYTEST_ADDOPTS="-n 2"`` or ``"--collect-only"`` had made a run judge nothing
    and print PASS; ``"-k walk"`` dropped clauses; an installed plugin such as pytest-randomly
    would reorder the contract tests (same seed, other requests)."""
    saved = {n: os.environ.pop(n) for n in CALLERS_PYTEST_ENVIRONMENT if n in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)


def run_suite(
    run_config,
    *,
    verbose: bool = False,
    extra_args: Sequence[str] = (),
    plugins: Sequence[object] = (),
) -> tuple[int, object]:
    """Run the packaged contract tests once, in-process; returns (exit code, session).

    pytest's own terminal output is off unless ``verbose``: the caller prints the clause
    report (``report.terminal_lines``), so no Python frame or test id reaches a default run.
    """
    import pytest

    from comms_contract.paths import contracts_dir

    preset = Preset(run_config)
    here = contracts_dir()
    # verbose: pytest's per-test lines and failures (short frames); otherwise no terminal
    terminal = ["-v", "--tb=short", "-rfE", "--no-header"] if verbose else ["-p", "no:terminal"]
    args = [
        str(here),
        "--rootdir",
        str(here),
        "-c",
        str(here / "pytest.ini"),
        # the plugins a run needs, named (autoloading is off, own_pytest_environment); under
        # python -O the ones the suite's plugin registers itself broke schemathesis' collector
        "-p",
        "_hypothesis_pytestplugin",
        "-p",
        "schemathesis.pytest.plugin",
        "-p",
        "comms_contract.plugin",
        "-p",
        "no:cacheprovider",
        # checks raise ClauseViolations; rewriting plugins costs ~2 s a run. Under python -O
        # rewriting stays: schemathesis' collector relies on an assert (stripped by -O, every
        # test became a schemathesis case: 27 collection errors), which rewriting keeps
        "--assert=rewrite" if sys.flags.optimize else "--assert=plain",
        *terminal,
        "-W",
        "ignore::DeprecationWarning",
        f"--hypothesis-seed={run_config.seed}",
        *extra_args,
    ]
    before = set(sys.modules)
    import hypothesis.configuration

    # hypothesis keeps caches under ./.hypothesis; a conformance run leaves the user's working
    # directory alone (the example database is off anyway): its home is the user's cache
    # directory, where the Unicode tables it computes (~2 s of CPU) survive from run to run,
    # or a throw-away folder where that cannot be written
    scratch = None
    try:
        if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
            home = hypothesis_cache_dir()
            if home is None:
                scratch = tempfile.TemporaryDirectory(prefix="comms-contract-")
                home = scratch.name
            hypothesis.configuration.set_hypothesis_home_dir(home)
        with own_pytest_environment():
            code = pytest.main(args, plugins=[preset, *plugins])
    except RunInterrupted as exc:  # before pytest's session began: pytest did not catch it
        code = pytest.ExitCode.INTERRUPTED
        interrupted = exc.signal_name
    else:
        interrupted = None
    finally:
        hypothesis.configuration.set_hypothesis_home_dir(None)
        if scratch is not None:
            scratch.cleanup()
        for name in set(sys.modules) - before:  # a second run in one process imports afresh
            if name.startswith(("comms_contract.contracts", "contracts", "test_")):
                del sys.modules[name]
    session = preset.session
    if interrupted and session is None:  # interrupted before the plugin built the session
        from comms_contract.session import ContractSession

        session = ContractSession(run_config)
    if session is not None and (interrupted or session.interrupted):
        session.interrupted = session.interrupted or interrupted
        return code, session
    if session is None or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return EXIT_ERROR, session
    if code == pytest.ExitCode.INTERRUPTED and not session.errors:  # e.g. a collection error
        session.errors.append("the run was interrupted (did a contract module fail to import?)")
    if session.errors:
        return EXIT_ERROR, session
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return EXIT_ERROR, session
    return (EXIT_VIOLATION if session.ledger.failed() else EXIT_OK), session


def cmd_run(args: argparse.Namespace) -> int:
    with signals_end_run(grace=args.own_process) as received:
        try:
            return _run(args, received)
        except RunInterrupted:
            pass  # before the suite started (configuration, imports): nothing to report yet
    print(f"comms-contract: interrupted by {signal.Signals(received[0]).name}", file=sys.stderr)
    return interrupt_exit_code(received[0])


def _run(args: argparse.Namespace, received: list[int]) -> int:
    try:
        config = run_config_from_args(args)
    except (ConfigError, ValueError, argparse.ArgumentTypeError) as exc:
        print(f"comms-contract: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    if config.target.unredacted_warning:  # no silent leak: a token too short to mask
        print(f"comms-contract: warning: {config.target.unredacted_warning}", file=sys.stderr)
    from comms_contract.progress import Progress

    progress = Progress()
    try:
        code, session = run_suite(config, verbose=args.verbose, plugins=[progress])
    finally:
        progress.stop()
    if received and session is None:  # pytest swallowed it before the session existed
        from comms_contract.session import ContractSession

        session = ContractSession(config)
    if session is not None and received:  # the first signal received, whatever pytest saw
        session.interrupted = signal.Signals(received[0]).name
    if session is not None and session.interrupted:
        from comms_contract.plugin import write_reports

        write_reports(session)  # a no-op when pytest's session finished and wrote them
        if any(session.ledger.checked.values()) or session.ledger.findings:
            print_report(session, verbose=args.verbose)  # what was checked so far, verdict last
        else:  # a log reader looks at the last line of stdout for the verdict
            print(f"result: INTERRUPTED  nothing was checked before {session.interrupted}")
        name = session.interrupted
        print(
            f"comms-contract: interrupted by {name}; the reports say 'interrupted'",
            file=sys.stderr,
        )
        return interrupt_exit_code(getattr(signal, name, signal.SIGINT))
    if session is not None:
        print_report(session, verbose=args.verbose)
    if code in (EXIT_OK, EXIT_VIOLATION) and args.auth_token is not None and config.target.base_url:
        # after the report, not before: a run that cannot start says one line, its error
        print(f"comms-contract: warning: {CREDENTIALS_ON_ARGV}", file=sys.stderr)
    return code


def print_report(session, *, verbose: bool = False) -> None:
    """Run errors once, on stderr; then the clause report on stdout, its verdict last.

    A run that observed nothing (the target unreachable, credentials rejected) prints only
    the error line: a table of skipped clauses would bury it.
    """
    from comms_contract import report

    ledger = session.ledger
    for err in session.errors:
        print(f"comms-contract: error: {printable(str(err))}", file=sys.stderr)
    sys.stderr.flush()
    observed = any(ledger.checked.values()) or ledger.findings
    if session.errors and not observed:
        return
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for line in report.terminal_lines(session, colour=colour, verbose=verbose):
        print(line)
    sys.stdout.flush()


def cmd_check_client(args: argparse.Namespace) -> int:
    from comms_contract.clientkit import SCENARIOS, UsageError, client_clauses, run_kit

    if args.list:
        for sc in SCENARIOS.values():
            zones = "2 zones" if sc.zoned else "UTC"
            print(wrapped(f"{sc.name:<22} {sc.expect:<8} {zones:<8} ", sc.summary))
        print()
        for c in client_clauses():
            print(wrapped(f"{c.id:<24} {c.level:<5} ", c.statement))
        return EXIT_OK
    command = args.driver[1:] if args.driver[:1] == ["--"] else args.driver
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    try:
        checked(args, KIT_TIMEOUT, SEED)
        if args.report_json:
            check_report_path(args.report_json, "--report-json")
    except ConfigError as exc:
        print(f"comms-contract: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    try:
        report = run_kit(
            command, args.scenario, timeout=args.timeout, seed=args.seed, pass_env=args.pass_env
        )
    except RunInterrupted as exc:  # the driver's process group is already killed
        print(f"comms-contract: interrupted by {exc.signal_name}", file=sys.stderr)
        return interrupt_exit_code(exc.signum)
    except UsageError as exc:
        print(f"comms-contract: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    for line in report.terminal_lines(colour=colour):
        print(line)
    if args.report_json:
        report.write_json(args.report_json)
    return report.code


def cmd_serve(args: argparse.Namespace) -> int:
    from comms_contract import listen

    try:
        checked(args, SERVE_PORT, SERVE_COUNT, SEED)
        if args.scenario:
            from comms_contract.clientkit.scenarios import SCENARIOS

            if args.scenario not in SCENARIOS:
                raise ConfigError(
                    f"unknown scenario {args.scenario!r} (choose from: {', '.join(SCENARIOS)})"
                )
        elif args.request_log:
            raise ConfigError("--request-log needs --scenario")
        if args.request_log and args.request_log != "-":
            check_report_path(args.request_log, "--request-log")
        sock = listen.bind(args.host, args.port)
    except ConfigError as exc:
        print(f"comms-contract: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    creds = Credentials(args.account_id, args.auth_token)
    if args.scenario:
        from comms_contract.clientkit.serve import serve_scenario

        return serve_scenario(args.scenario, sock, creds, args.seed, args.request_log)

    from comms_contract.server import Dataset, ReferenceServer

    app = ReferenceServer(
        Dataset.generate(count=args.count, seed=args.seed), credentials=creds, seed=args.seed
    )
    base = listen.base_url(sock)
    print(f"comms-contract reference server: {args.count} operations, seed {args.seed}")
    print(f"  base URL:   {base}   (list: {base}/v1/PushNotifications/Operations)")
    print(f"  account id: {args.account_id}")
    print(f"  auth token: {args.auth_token}   (the mock's own credentials, not a real secret)")
    print(
        f"  try: COMMS_AUTH_TOKEN={shlex.quote(args.auth_token)} comms-contract run "
        f"--base-url {shlex.quote(base)} --account-id {shlex.quote(args.account_id)}"
    )
    print("  stop: Ctrl-C")
    sys.stdout.flush()
    listen.serve_forever(app, sock)
    return EXIT_OK


def cmd_clauses(args: argparse.Namespace) -> int:
    from comms_contract.docs import clause_table

    if args.markdown:
        print(clause_table(), end="")
        return EXIT_OK
    for c in catalog.clauses():
        print(wrapped(f"{c.id:<22} {c.level:<6} §{c.section}  ", c.statement))
    return EXIT_OK


def wrapped(head: str, text: str) -> str:
    """``head`` then ``text`` wrapped to the terminal width, continuation lines indented."""
    import textwrap

    from comms_contract.report import terminal_width

    return textwrap.fill(
        text,
        width=max(terminal_width(), len(head) + 20),
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
    )


INTERRUPT_CODES = frozenset(128 + int(s) for s in SIGNALS)


def _end_process_now(code: int) -> NoReturn:
    """An interrupted run has written its reports and removed its temporary folder: end the
    process now. A normal exit would join every lane thread first, and one still inside a
    request to a slow target would hold the exit for up to ``--timeout`` (a signal asks for
    a prompt end; CI systems kill what does not end within seconds)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class GuardedStdout:
    """``sys.stdout`` for the console script: the verdict is the exit status, whatever
    happens to the terminal. Text the stream's encoding cannot hold is replaced (``?``), a
    closed stdout is /dev/null, and a write that fails (a reader gone: EPIPE; a full disk:
    ENOSPC) ends the writing, not the run: before, each gave a traceback and exit 1 on a
    passing run (breaker, 2026-11-30). ``failure`` is the first such error."""

    def __init__(self, stream: Any) -> None:
        if stream is None:  # started with descriptor 1 closed
            stream = open(os.devnull, "w", encoding="utf-8")  # the process keeps it
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="replace")
        self.stream = stream
        self.failure: OSError | None = None

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                return self.stream.write(text)
            except OSError as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.failure = exc
        # the interpreter flushes stdout once more at exit: the descriptor now goes nowhere
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    guard = None
    if argv is None:  # the console script's own stdout (a caller's main([...]) keeps theirs)
        guard = GuardedStdout(sys.stdout)
        sys.stdout = guard  # type: ignore[assignment]
    code = _main(argv)
    if guard is not None and guard.failure is not None:
        if isinstance(guard.failure, BrokenPipeError):
            # the reader went away (``comms-contract clauses | head``): a listing ends as a
            # Unix tool killed by SIGPIPE would (141); a run or check keeps its verdict
            return code if code in (EXIT_OK, EXIT_VIOLATION) else 128 + signal.SIGPIPE
        print(
            f"comms-contract: warning: the report could not be written to stdout: "
            f"{guard.failure.strerror or guard.failure}; the exit status is the verdict",
            file=sys.stderr,
        )
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    handler = {
        "run": cmd_run,
        "serve": cmd_serve,
        "clauses": cmd_clauses,
        "check-client": cmd_check_client,
    }[args.command]
    args.own_process = argv is None  # the console script, not a caller's main([...])
    try:
        os.getcwd()
    except FileNotFoundError:  # pytest, relative report paths: nothing works without one
        print(
            "comms-contract: error: the current directory no longer exists; cd to one that does",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        code = handler(args)
        if argv is None and code in INTERRUPT_CODES:
            _end_process_now(code)
        return code
    except KeyboardInterrupt:
        print("comms-contract: interrupted", file=sys.stderr)
        return interrupt_exit_code(signal.SIGINT)
    except BrokenPipeError:
        # a caller's own stdout (main([...])) whose reader went away: as a tool killed by
        # SIGPIPE would (141); stdout now points at /dev/null so a final flush cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
