"""Repository root conftest: the self-tests run in parallel (pytest-xdist) and never talk to a
real target by accident."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``python -m pytest`` spreads the self-tests over one worker more than there are CPUs
    (pytest-xdist, ``--dist worksteal``: a few heavy tests would leave ``load``'s fixed chunks
    unbalanced). A worker more because part of the self-tests' time is waiting (Retry-After
    pauses, client drivers in subprocesses, cut-off timeouts): on the 2-core CI machine 3
    workers took 9:16 where 2 took 10:57 (same commit, 16 minutes of CPU either way).

    Set here rather than in pytest.ini's addopts so the README's test command still works
    where pytest-xdist is not installed (``pip install .`` without the dev extras): it then
    runs in one process. ``-n N``, ``-n 0`` or ``-p no:xdist`` on the command line win.
    """
    option = config.option
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # no pytest-xdist, or this is one of its workers
    if option.numprocesses is not None:
        return
    if getattr(option, "collectonly", False) or getattr(option, "usepdb", False):
        return
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    option.numprocesses = (len(usable) if usable else os.cpu_count() or 1) + 1
    if option.dist == "no":
        option.dist = "worksteal"


@pytest.fixture(autouse=True)
def _no_target_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMMS_BASE_URL", "COMMS_ACCOUNT_ID", "COMMS_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", ".hypothesis")


pytest_plugins = ["pytester"]
