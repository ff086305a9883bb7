"""AUTH: no credentials, or wrong ones, get 401 or 403 and a JSON error body."""

from __future__ import annotations

import pytest

from comms_contract.checks import parse_json, why_not_json
from comms_contract.judge import INTERMITTENT, describe, repeat_5xx

CASES = {
    "no credentials": False,
    "wrong secret": ("__account__", "comms-contract-wrong-secret"),
    "unknown user": ("ACcommscontractunknownuser0000000", "comms-contract-wrong-secret"),
    "empty user and secret": ("", ""),
}


@pytest.mark.clause("AUTH", "ERROR-BODY", "NO-5XX")
@pytest.mark.parametrize("case", list(CASES))
def test_bad_credentials_are_refused(comms, case):
    auth = CASES[case]
    if isinstance(auth, tuple) and auth[0] == "__account__":
        auth = (comms.config.target.account_id, auth[1])
    params = [("pageSize", "1")]
    ex = comms.get(params, auth=auth)
    v = comms.verdict(ex)
    v.observe("AUTH", "NO-5XX")
    if ex.status >= 500:
        # a 5xx is NO-5XX's; AUTH is judged on the repeat, so a random fault landing on this
        # probe (a lane's timing decides which request it hits) does not decide AUTH's status
        first, ex = ex, repeat_5xx(lambda: comms.get(params, auth=auth))
        how = (
            f"and {ex.status} each time it was repeated"
            if ex.status >= 500
            else INTERMITTENT.strip()
        )
        message = f"{case}: {describe(params)} got {first.status} {how}"
        v.fail("NO-5XX", message, evidence=(first.line(),))
        v.exchange = ex
    if ex.status not in (401, 403):
        # an intermittent broken answer can land here: say so, not only "got 200"
        broken = "" if parse_json(ex)[0] else f" (a body that is not JSON: {why_not_json(ex)})"
        v.fail("AUTH", f"{case}: {describe(ex.params)} got {ex.status}{broken}, not 401 or 403")
    else:
        comms.ledger.note("AUTH", f"refused with {ex.status}")
        comms.check_response(ex)
    v.done()


# Valid credentials are accepted: the run's first request (session preflight) ends the run
# with exit 2 and "credentials rejected" otherwise, and every other check needs that answer.
