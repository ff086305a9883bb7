"""A conformant client built only from well-known libraries: requests for HTTP and Basic auth,
urllib3's Retry for 429/503 (Retry-After honoured, seconds or HTTP-date), a hand-written
next-token loop. Retry(total=9): 10 attempts, so at most 10 throttled answers in a row."""

import json
import os
import sys

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

MAX_RETRIES = 9  # Retry counts retries: 9 retries = 10 requests = at most 10 throttled answers


def session(retries: int) -> requests.Session:
    retry = Retry(
        total=retries,
        status_forcelist=(429, 503),  # 500 is not retried
        respect_retry_after_header=True,
        allowed_methods=("GET",),
        backoff_factor=0,
    )
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    s.auth = (os.environ["COMMS_ACCOUNT_ID"], os.environ["COMMS_AUTH_TOKEN"])
    return s


def list_ids(retries: int = MAX_RETRIES) -> list[str]:
    url = os.environ["COMMS_BASE_URL"].rstrip("/") + "/v1/PushNotifications/Operations"
    params = {k: str(v) for k, v in json.loads(os.environ.get("COMMS_LIST_PARAMS") or "{}").items()}
    ids: list[str] = []
    with session(retries) as s:
        while True:
            r = s.get(url, params=params, timeout=20)
            r.raise_for_status()
            page = r.json()
            ids += [op["id"] for op in page["operations"]]
            token = (page.get("pagination") or {}).get("next")
            if not token:  # absent, null and "" all end the list
                return ids
            params["pageToken"] = token


def main(retries: int = MAX_RETRIES) -> int:
    try:
        ids = list_ids(retries)
    except requests.RequestException as exc:
        print(f"driver: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write("".join(f"{i}\n" for i in ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
