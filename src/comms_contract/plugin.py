"""The pytest plugin (entry point ``pytest11``): options, fixtures and per-clause reporting.

It stays inert in a user's own test run until a test carries ``@pytest.mark.clause`` or uses
a ``comms_*`` fixture; then it records each clause's result and writes the reports.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib.metadata import entry_points

import hypothesis.errors
import pytest

from comms_contract import catalog, report
from comms_contract.config import CREDENTIALS_ON_ARGV, SETTINGS, build_run_config, values_from
from comms_contract.http import ConfigError
from comms_contract.interrupt import RunInterrupted, arm, pending, signal_name
from comms_contract.judge import INTERMITTENT
from comms_contract.ledger import (
    CLIENT_OBSERVED,
    BrokenAnswer,
    BudgetExhausted,
    ClauseViolations,
    Finding,
    TargetError,
)
from comms_contract.paths import contracts_dir
from comms_contract.redact import REDACTOR, redact
from comms_contract.session import (
    ContractSession,
    RunConfig,
    current,
    install,
    install_error,
)

_RESTORE_SIGNALS = pytest.StashKey[Callable[[], None]]()

# the pytest plugins the contract tests cannot run without: hypothesis' (seed option, health
# checks) and schemathesis' (it turns ``@SCHEMA.parametrize()`` into test cases)
NEEDED_PLUGINS = ("_hypothesis_pytestplugin", "schemathesis.pytest.plugin")


@functools.cache
def _entry_point_names() -> dict[str, str]:
    """Module -> its ``pytest11`` entry point name (the name autoloading registers)."""
    return {ep.value.partition(":")[0]: ep.name for ep in entry_points(group="pytest11")}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the plugins in NEEDED_PLUGINS when pytest did not: with entry-point
    autoloading off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``, and in ``comms-contract run``),
    ``-p comms_contract`` alone would leave the fuzzer without its test cases ("fixture
    'case' not found"). Registered under their entry point names, so that autoloading, when
    on, finds them loaded instead of loading them twice."""
    for module_name in NEEDED_PLUGINS:
        name = _entry_point_names().get(module_name, module_name)
        if pluginmanager.is_blocked(name) or pluginmanager.get_plugin(name) is not None:
            continue
        module = importlib.import_module(module_name)
        if not pluginmanager.is_registered(module):
            pluginmanager.register(module, name)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("comms-contract", "comms-contract conformance suite")
    for setting in SETTINGS:
        g.addoption(f"--comms-{setting.name}", **setting.option_kwargs())
    g.addoption(
        "--comms-config",
        metavar="PATH",
        help="settings file (default: ./comms-contract.toml or [tool.comms-contract] in "
        "./pyproject.toml); command-line options win",
    )
    g.addoption("--comms-app", help="test an ASGI app in-process instead: module:attribute")


def build_config(config: pytest.Config) -> RunConfig:
    """The checked RunConfig for the ``--comms-*`` options (the same builder as ``run``)."""
    opt = config.getoption
    return build_run_config(
        values_from(None, lambda attr: opt(f"comms_{attr}")),
        prefix="--comms-",
        config_file=opt("comms_config"),
        app_spec=opt("comms_app") or None,
    )


def _contract_run_requested(config: pytest.Config) -> bool:
    """True when this pytest run targets the contract tests (the runner, ``--pyargs
    comms_contract.contracts``, their folder, or a ``--comms-*`` option on the command line)."""
    args = [str(a) for a in config.invocation_params.args]
    here = str(contracts_dir())
    return any(
        a.startswith("--comms-") or "comms_contract.contracts" in a or a.startswith(here)
        for a in args
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the contract clauses a test enforces")
    # known to the redactor before anything can fail or log: pytest --debug has already
    # written argv (with a --comms-auth-token) to its log
    token = config.getoption("comms_auth_token", None) or os.environ.get("COMMS_AUTH_TOKEN")
    if token and REDACTOR.add("", token) and config.option.debug:
        _scrub_debug_log(config)
    config.addinivalue_line(
        "markers",
        "ahead: a hypothesis test that plans its requests when comms.planning is set "
        "(run once that way to send its cases ahead on idle lanes)",
    )
    config.addinivalue_line(
        "markers",
        "sequential: a test whose every request depends on the answer before (the state "
        "machine); it runs before the first test marked ahead",
    )
    preset = next((p for p in config.pluginmanager.get_plugins() if hasattr(p, "run_config")), None)
    requested = preset is not None or _contract_run_requested(config)
    blocked = [_entry_point_names().get(m, m) for m in NEEDED_PLUGINS]
    blocked = [name for name in blocked if config.pluginmanager.is_blocked(name)]
    if requested and blocked:  # the fuzzer without cases, or a seed nobody applies
        raise pytest.UsageError(
            f"comms-contract: the contract tests need the pytest plugin {blocked[0]!r}, "
            f"disabled here with -p no:{blocked[0]}"
        )
    if requested and getattr(config.option, "dist", "no") != "no":
        _stay_in_one_process(config)
    # a signal can land inside a gc callback (hypothesis installs one) or a __del__, where
    # Python cannot raise: the exception is "ignored" and pytest reports it as a warning with
    # its frames. The run still ends (``pending`` is asked between tests); the warning, a
    # Python traceback about the suite's own signal, is not shown.
    config.addinivalue_line(
        "filterwarnings",
        r"ignore:(?s)Exception ignored in.*RunInterrupted:pytest.PytestUnraisableExceptionWarning",
    )
    try:
        run_config = preset.run_config if preset is not None else build_config(config)
        run_config.target.validate(allow_insecure_http=run_config.allow_insecure_http)
    except (ConfigError, ValueError) as exc:
        if requested:
            raise pytest.UsageError(f"comms-contract: {exc}") from None
        install_error(str(exc))  # a user's unrelated run: fail only if a contract test runs
        return
    warning = run_config.target.unredacted_warning
    if requested and warning:
        _warn(config, warning)
    if requested and getattr(config.option, "hypothesis_seed", None) is None:
        # the contract's generated cases follow --comms-seed, so a verdict is reproducible
        config.option.hypothesis_seed = run_config.seed
    session = ContractSession(run_config)
    session.runner = preset is not None  # the runner prints the report itself
    session.verbosity = config.get_verbosity()
    if preset is not None:
        preset.session = session
    elif requested:
        # a contract run under plain pytest: SIGTERM/SIGHUP (a CI cancel) end it like Ctrl-C,
        # with reports that say "interrupted" (the runner arms the same handlers itself)
        config.stash[_RESTORE_SIGNALS] = arm([])
    install(session)
    if any(str(a).startswith("--comms-auth-token") for a in config.invocation_params.args):
        _warn(config, "--comms-" + CREDENTIALS_ON_ARGV.removeprefix("--"))


def _stay_in_one_process(config: pytest.Config) -> None:
    """A contract run under ``pytest -n N`` (pytest-xdist) runs in this one process.

    Split over workers, each worker judged part of the clauses and wrote its own reports over
    the others' (the last one won: the rest read "skipped"), and no per-clause summary was
    printed. The suite's parallelism is its lanes (``--comms-workers``), inside one run.
    xdist starts its workers in its own ``pytest_configure`` (trylast): this runs first."""
    config.option.dist = "no"
    _warn(
        config,
        "comms-contract: the contract tests run in one process (their independent requests "
        "go out on --comms-workers lanes): -n/--dist is ignored for this session",
    )


_NOTES = pytest.StashKey[list[str]]()


def _warn(config: pytest.Config, text: str) -> None:
    """A configuration warning in pytest's warnings summary; under a user's ``filterwarnings =
    error`` (common in projects), which turns it into an exception and the session into
    INTERNALERROR before any test ran (breaker, 2026-11-30), a line of the clause summary."""
    try:
        config.issue_config_time_warning(pytest.PytestConfigWarning(text), stacklevel=2)
    except Warning:
        config.stash.setdefault(_NOTES, []).append(text)


def _scrub_debug_log(config: pytest.Config) -> None:
    """``pytest --debug`` logs every hook's arguments, argv among them, from before this plugin
    runs: mask what comes from now on, and rewrite the log masked before pytest closes it
    (cleanups run last-in first-out, so this one runs first)."""
    handle = getattr(getattr(config.trace.root, "_writer", None), "__self__", None)
    if handle is None or not hasattr(handle, "seek") or handle.closed:
        # pytest or pluggy changed how the log is written: rewrite it once it is closed
        atexit.register(_rewrite_closed_log, str(config.option.debug))
        return
    config.trace.root.setwriter(lambda text: handle.write(redact(text)))

    def rewrite() -> None:
        if handle.closed:
            return
        handle.flush()
        with open(handle.name, encoding="utf-8", errors="replace") as log:
            text = redact(log.read())
        handle.seek(0)
        handle.truncate()
        handle.write(text)
        handle.flush()

    config.add_cleanup(rewrite)


def _rewrite_closed_log(path: str) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            text = log.read()
        with open(path, "w", encoding="utf-8") as log:
            log.write(redact(text))
    except OSError:
        pass


def pytest_unconfigure(config: pytest.Config) -> None:
    restore = config.stash.get(_RESTORE_SIGNALS, None)
    if restore is not None:
        restore()
    try:
        current().close()
    except RuntimeError:
        pass
    install(None)


def clause_ids(item: pytest.Item) -> list[str]:
    """The catalog ids of the item's ``clause`` markers (written in any case)."""
    return [catalog.canonical(c) for m in item.iter_markers("clause") for c in m.args]


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> bool | None:
    """The runner checks its target before collecting (collection and hypothesis' set-up take
    several seconds): an unreachable host, rejected credentials or a URL that is not this API
    end the run at once, with the same one line and exit 2, and nothing is collected."""
    try:
        run = current()
    except RuntimeError:
        return None
    if not run.runner:
        return None  # plain pytest: the user's own tests may not need the target at all
    try:
        run.client  # noqa: B018 - builds the client and runs the preflight
    except TargetError as exc:
        if redact(str(exc)) not in run.errors:
            run.errors.append(redact(str(exc)))
        session.items = []
        session.testscollected = 0
        return True
    return None


def _sequential_first(items: list[pytest.Item]) -> None:
    """Move the tests marked ``sequential`` before the first test marked ``ahead``.

    Against a distant target their round trips then overlap the lanes' work sent ahead
    instead of following it (ci profile, 50 ms a request, 173 operations: 16.4 -> 15.8 s,
    the state machine's 60 requests; at 5,000 no change). In every run, whatever the lanes,
    so the order, and with it what a stateful target answers, is the same with 1 lane or 8.
    """
    sequential = [i for i in items if i.get_closest_marker("sequential") is not None]
    first = next((i for i in items if i.get_closest_marker("ahead") is not None), None)
    if not sequential or first is None or items.index(first) > items.index(sequential[0]):
        return
    for item in sequential:
        items.remove(item)
    at = items.index(first)
    items[at:at] = sequential


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(clause_ids(i) for i in items):
        return  # a user's own run without contract tests: nothing to do
    try:
        session = current()
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None
    ledger = session.ledger
    for item in items:
        for cid in clause_ids(item):
            try:  # an unknown id in a marker is a bug in the test: fail loudly, on one line
                catalog.resolve(cid, flag=f"@pytest.mark.clause on {item.nodeid}")
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
            tests = ledger.marked.setdefault(cid, [])
            if _test_name(item) not in tests:
                tests.append(_test_name(item))
    _sequential_first(items)
    if ledger.selected is None:
        return
    keep = [i for i in items if observes(i) & ledger.selected or not clause_ids(i)]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    if not any(clause_ids(i) for i in keep):
        raise pytest.UsageError(
            f"comms-contract: no check observes {', '.join(sorted(ledger.selected))} "
            "(see 'comms-contract clauses')"
        )


def observes(item: pytest.Item) -> set[str]:
    """The clauses a contract test can report on: its markers, plus what the client sees."""
    ids = set(clause_ids(item))
    return ids | CLIENT_OBSERVED if ids else ids


def _test_name(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[-1] if "::" in item.nodeid else item.name


def _contract_item(item: pytest.Item) -> bool:
    return str(item.path).startswith(str(contracts_dir()))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A contract module that cannot be imported: one line naming it and the error (the
    runner's default output has no pytest section to show the traceback in; -v has)."""
    if not report.failed:
        return
    try:
        session = current()
    except RuntimeError:
        return
    if not session.runner:
        return  # a plain pytest run shows the collection error itself
    lines = [line.strip() for line in str(report.longrepr).splitlines() if line.strip()]
    last = lines[-1].removeprefix("E").strip() if lines else "collection failed"
    session.errors.append(redact(f"cannot collect {report.nodeid or 'the contracts'}: {last}"))


@pytest.fixture(scope="session")
def comms(request: pytest.FixtureRequest) -> ContractSession:
    """The run: ``comms.get(params)``, ``comms.check_response(ex)``, ``comms.ledger``...

    With more than one lane (``--comms-workers``; a few by default against a URL), the
    selected tests' independent requests and walks are sent ahead in parallel here."""
    session = current()
    session.plan_ahead(request.session.items)
    return session


@pytest.fixture(scope="session")
def comms_client(comms: ContractSession):
    """The suite's HTTP client for the configured target (throttling, budget, redaction)."""
    return comms.client


@pytest.fixture
def comms_mock(request: pytest.FixtureRequest):
    """A client-kit scenario served at https://comms.twilio.com through respx, for testing a
    Python (httpx) client: ``comms_mock.use(name)`` or ``parametrize("comms_mock", [...],
    indirect=True)`` picks the scenario; ``comms_mock.assert_conforms(ids, error)`` grades it."""
    from comms_contract.clientkit.mock import CommsMock

    with CommsMock(getattr(request, "param", None) or "multi-page") as mock:
        yield mock


def _exceptions(exc: BaseException) -> Iterator[BaseException]:
    yield exc
    for sub in getattr(exc, "exceptions", ()) or ():
        yield from _exceptions(sub)
    if exc.__cause__ is not None and exc.__cause__ is not exc:
        yield from _exceptions(exc.__cause__)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Bracket a contract test, so its checks' observations are credited to it alone."""
    signum = pending()
    if signum is not None:  # a signal whose exception something swallowed: end the run now
        raise RunInterrupted(signum)
    if clause_ids(item):
        current().ledger.begin(item.nodeid.split("::", 1)[-1])
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    # captured output and logs may quote a response that echoed a secret
    rep.sections = [(title, redact(text)) for title, text in rep.sections]
    ids = clause_ids(item)
    if not ids:
        return rep
    ledger = current().ledger
    for cid in ids:  # for the summary (clauses touched) and JUnit (time per clause)
        if ledger.wants(cid):
            ledger.touched.add(cid)
            ledger.seconds[cid] = ledger.seconds.get(cid, 0.0) + rep.duration / len(ids)
    if call.when == "call":
        try:
            return _report_call(item, call, rep, ids)
        finally:
            current().ledger.end()  # whatever happened, the next test starts with no observations
    if call.excinfo is None:
        return rep
    return _report_error(item, call, rep, ids)


def _report_call(item: pytest.Item, call: pytest.CallInfo, rep, ids: list[str]):
    """A contract test ran: credit the clauses it observed (a passing test, or one whose
    findings are all advisory), skip the others with its reasons."""
    ledger = current().ledger
    if call.excinfo is None:
        if rep.passed:
            ledger.end(ids)
        return rep
    rep = _report_error(item, call, rep, ids)
    if not rep.skipped:
        ledger.end(ids)  # a clause verdict: observed clauses credited, findings recorded
    return rep


def _report_error(item: pytest.Item, call: pytest.CallInfo, rep, ids: list[str]):
    """A contract test (or its setup) raised: a skip, an unusable target, a spent budget,
    findings, or a suite bug."""
    session = current()
    ledger = session.ledger
    name = item.nodeid.split("::", 1)[-1]
    if rep.skipped:
        reason = str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else "skipped"
        for cid in ids:
            ledger.skip(cid, reason.removeprefix("Skipped: "))
        return rep
    found = list(_exceptions(call.excinfo.value))
    fatal = next((e for e in found if isinstance(e, TargetError)), None)
    if fatal is not None:
        if str(fatal) not in session.errors:
            session.errors.append(redact(str(fatal)))
        item.session.shouldstop = redact(str(fatal))
        session.fatal = session.fatal or redact(str(fatal))
        ledger.stopped = "the run stopped (see its error)"
        # the target cannot be tested: not a finding about this test, so no failure section;
        # the runner prints the one-line reason and exits 2
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), 0, f"Skipped: {redact(str(fatal))}")
        return rep
    budget = next((e for e in found if isinstance(e, BudgetExhausted)), None)
    if budget is not None:
        for cid in ids:
            ledger.skip(cid, f"{budget} before this check could finish")
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), 0, f"Skipped: {budget}")
        return rep
    broken = next((e for e in found if isinstance(e, BrokenAnswer)), None)
    if broken is not None:
        return _broken_answer(item, rep, session, broken, ids)
    violations: list[Finding] = [
        f for e in found if isinstance(e, ClauseViolations) for f in e.findings
    ]
    if not violations:
        # a suite bug, not a finding: exit 2 (never a pass), one line with where it happened,
        # no frames (the user cannot act on them; -v shows pytest's own report)
        where = _innermost(call.excinfo)
        line = f"internal error in {name}: {_exc_line(call.excinfo.value)}{where}"
        session.errors.append(redact(line)[:500])
        if item.config.get_verbosity() < 1:
            rep.longrepr = redact(line)
        else:
            rep.longrepr = redact(str(rep.longrepr))
        return rep
    if any(isinstance(e, _FLAKY) for e in found):
        # hypothesis saw the failure once and not on replay: still a fault (CONTRACT.md
        # section 4: an intermittent fault is a fault), reported as intermittent
        violations = [_intermittent(f) for f in violations]
    for f in violations:
        ledger.record(replace(f, test=name))
    if not any(ledger.fails_run(f) for f in violations):
        rep.outcome = "passed"
        rep.longrepr = None
        return rep
    clauses_hit = sorted({f.clause for f in violations if ledger.fails_run(f)})
    if item.config.get_verbosity() >= 1 or not _contract_item(item):
        text = redact(str(rep.longrepr))  # frames: asked for (-v), or the user's own test
    else:  # the findings, without Python frames (they are the suite's, not the user's)
        text = redact(str(ClauseViolations(violations)))
    rep.longrepr = f"{text}\n\nclauses violated: {', '.join(clauses_hit)}  (seed {session.seed})"
    if _contract_item(item):
        rep.longrepr += "\n" + "\n".join(
            f"reproduce: {session.suite_command(cid)}" for cid in clauses_hit[:3]
        )
    return rep


_FLAKY: tuple[type[BaseException], ...] = (hypothesis.errors.Flaky,)


def _intermittent(f: Finding) -> Finding:
    return f if f.message.endswith(INTERMITTENT) else replace(f, message=f.message + INTERMITTENT)


def _exc_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _innermost(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """`` at path:line`` of the innermost frame of the suite (a hint for the bug report)."""
    tb = excinfo.tb
    where = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if "comms_contract" in path or "contracts" in path:
            where = f" (at {path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]}:{tb.tb_lineno})"
        tb = tb.tb_next
    return where


MAX_BROKEN_ANSWERS = 3  # then the run stops: each one may have cost a whole --timeout


def _broken_answer(item, rep, session: ContractSession, broken: BrokenAnswer, ids: list[str]):
    """A request got no complete answer (stall, oversized body, cut connection): a NO-5XX
    finding; the test's own clauses could not be judged. After a few, the run stops, so a
    target that stalls every request still ends within minutes."""
    ledger = session.ledger
    finding = broken.finding
    ledger.include(finding.clause)  # also under --clause SIZE-RANGE: a broken answer fails
    ledger.record(replace(finding, test=item.nodeid.split("::", 1)[-1]))
    ledger.mark_checked(finding.clause, "every request the run sent")
    for cid in ids:
        if cid != finding.clause:
            ledger.skip(cid, f"a request got no complete answer ({finding.message})")
    session.broken_answers += 1
    if session.broken_answers >= MAX_BROKEN_ANSWERS:
        # shouldfail, not shouldstop: pytest ends the run as "tests failed" (exit 1), which
        # is what it is; shouldstop would read as an interruption
        item.session.shouldfail = (
            f"{session.broken_answers} requests got no complete answer; the run stops "
            "(the remaining checks are skipped)"
        )
        ledger.stopped = (
            f"the run stopped after {session.broken_answers} requests got no complete answer "
            "(NO-5XX)"
        )
    rep.outcome = "failed"
    lines = [f"[{finding.clause}] {finding.message}", *(f"    {e}" for e in finding.evidence)]
    rep.longrepr = redact("\n".join(lines))
    return rep


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    # Ctrl-C, or SIGTERM/SIGHUP turned into RunInterrupted by the runner: the reports written
    # next must say "interrupted", never pass. pytest's own Session.Interrupted (shouldstop:
    # the target failed, or -x) is a KeyboardInterrupt too, but no signal.
    if isinstance(excinfo.value, pytest.Session.Interrupted):
        return
    # the first signal received is the truth: its exception may reach pytest re-raised as a
    # plain KeyboardInterrupt (which reads as SIGINT) by code it passed through
    signum = pending()
    try:
        current().interrupted = (
            signal.Signals(signum).name if signum is not None else signal_name(excinfo.value)
        )
    except RuntimeError:
        pass


def write_reports(run: ContractSession) -> None:
    """Write the reports the run asked for, once (the runner calls it again after an
    interruption that came before pytest's session could finish)."""
    if run.reports_written:
        return
    cfg = run.config
    if cfg.report_json:
        report.write_json(run, cfg.report_json)
    if cfg.junit_xml:
        report.write_junit(run, cfg.junit_xml)
    if cfg.report_html:
        from comms_contract import html_report

        html_report.write_html(run, cfg.report_html)
    run.reports_written = True


def pytest_internalerror(excrepr: object, excinfo: pytest.ExceptionInfo[BaseException]):
    """An exception that ends pytest's session (the machine out of file descriptors, say) is
    a run error with its one line, so the verdict reads ERROR, not PASS with every clause
    skipped (breaker, 2026-11-30). The runner prints that line instead of pytest's
    INTERNALERROR dump (``-v`` keeps the dump); plain pytest prints both."""
    try:
        run = current()
    except RuntimeError:
        return None
    first = str(excinfo.value).strip().splitlines()
    text = f"{excinfo.typename}: {first[0]}" if first else excinfo.typename
    run.errors.append(redact(f"the run stopped: {text[:300]} (-v shows where)"))
    if run.runner and run.verbosity < 1:
        return True  # handled: pytest prints no INTERNALERROR lines
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest's --junitxml writes its file
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        run = current()
    except RuntimeError:
        return
    signum = pending()
    if signum is not None and not run.interrupted:  # its exception was swallowed on the way
        run.interrupted = signal.Signals(signum).name
    nothing = not run.ledger.touched
    if nothing and not run.errors and not run.interrupted:
        return  # no contract test ran: stay out of the user's way
    if not run.runner:  # pytest's own reports (--junitxml) must not read as a pass
        if run.interrupted:
            text = f"interrupted by {run.interrupted}: the contract run did not finish; "
            _report_unfinished(session, "interrupted", text + "its verdict is unknown")
        elif run.fatal:
            _report_unfinished(session, "stopped", f"the contract run stopped: {run.fatal}")
    write_reports(run)
    if run.interrupted:  # the shell's code for a process ended by signal N: 128 + N
        session.exitstatus = 128 + getattr(signal, run.interrupted, signal.SIGINT)
    elif run.errors:
        session.exitstatus = pytest.ExitCode.INTERRUPTED if exitstatus == 0 else exitstatus
    elif run.ledger.failed() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _report_unfinished(session: pytest.Session, name: str, text: str) -> None:
    """Under plain pytest, a contract run that did not finish (interrupted, or stopped by a
    target that cannot be tested) is one failed test ``comms-contract::<name>`` in pytest's
    own reports: its ``--junitxml`` listed only the tests that had finished (``tests="0"
    failures="0"`` for a run interrupted in its first test; ``skipped="1"`` for one whose
    target stopped it), which a CI reads as a pass."""
    for when, outcome in (("call", "failed"), ("teardown", "passed")):
        report = pytest.TestReport(
            nodeid=f"comms-contract::{name}",
            location=("comms-contract", None, name),
            keywords={},
            outcome=outcome,  # type: ignore[arg-type]
            longrepr=text if outcome == "failed" else None,
            when=when,  # type: ignore[arg-type]
        )
        session.config.hook.pytest_runtest_logreport(report=report)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    try:
        run = current()
    except RuntimeError:
        return
    notes = config.stash.get(_NOTES, [])
    if run.runner or not (run.ledger.touched or notes):
        return  # the runner prints its own report; or no contract test ran
    terminalreporter.section("comms-contract clauses")
    for note in notes:
        terminalreporter.write_line(f"warning: {note.removeprefix('comms-contract: ')}")
    if not run.ledger.touched:
        return
    lines = report.terminal_lines(
        run,
        colour=terminalreporter.hasmarkup,
        width=terminalreporter._tw.fullwidth,
        verbose=config.get_verbosity() >= 2,
        only_touched=True,
    )
    for line in lines:
        terminalreporter.write_line(line)
