"""Repository root conftest: the self-tests never talk to a real target by accident."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_target_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMMS_BASE_URL", "COMMS_ACCOUNT_ID", "COMMS_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", ".hypothesis")


pytest_plugins = ["pytester"]
