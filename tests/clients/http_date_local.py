"""Bug: converts an HTTP-date Retry-After with time.mktime, which reads the (UTC) date as host
local time: early east of UTC, hours late west of it; right only on a UTC host."""

import email.utils
import time

from _driver import Driver, run


class HttpDateLocal(Driver):
    def retry_delay(self, headers):
        value = (headers.get("Retry-After") or "1").strip()
        if value.isdigit():
            return float(value)
        return max(0.0, time.mktime(email.utils.parsedate(value)) - time.time())


if __name__ == "__main__":
    run(HttpDateLocal)
