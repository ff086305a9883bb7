"""Bug: on 429/503 retries after a fixed 50 ms, whatever Retry-After says."""

import time

from _driver import ApiError, Driver, run


class IgnoresRetryAfter(Driver):
    def on_throttled(self, status, headers, attempt):
        if attempt >= 100:
            raise ApiError(status, b"still throttled")
        time.sleep(0.05)


if __name__ == "__main__":
    run(IgnoresRetryAfter)
