"""METHODS (SHOULD): other methods get 405 with Allow: GET. Off by default: read-only runs."""

from __future__ import annotations

import pytest


@pytest.mark.clause("METHODS")
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_get_405(comms, method):
    if not comms.config.probe_methods:
        pytest.skip("read-only run: pass --probe-methods to send POST/PUT/PATCH/DELETE")
    ex = comms.get([], method=method)
    v = comms.verdict(ex)
    v.observe("METHODS")
    allow = ex.headers.get("allow", "")
    if ex.status >= 500:
        v.fail("NO-5XX", f"{method} got {ex.status}")
    elif ex.status != 405 or "GET" not in [m.strip().upper() for m in allow.split(",")]:
        v.fail("METHODS", f"{method} got {ex.status} with Allow {allow!r}, not 405 with Allow: GET")
    v.done()
