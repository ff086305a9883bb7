"""Conformant in other ways than the base driver, and must pass too: dates re-written in UTC
('Z', the same instants; a 9-digit fraction cut to Python's microseconds), later pages sent
with the token only (no filters, no pageSize), lower-case percent-encoding, and up to 3
attempts at a request answered 500."""

import re
from datetime import datetime, timezone

from _driver import ApiError, Driver, run


class Variants(Driver):
    def format_param(self, name, value):
        if name in ("startDate", "endDate"):
            instant = datetime.fromisoformat(value).astimezone(timezone.utc)  # microseconds
            return instant.isoformat(timespec="microseconds").replace("+00:00", "Z")
        return str(value)

    def query(self, token):
        return super().query(None) if token is None else [("pageToken", token)]

    def encode(self, pairs):
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), super().encode(pairs))

    def on_server_error(self, status, body, attempt):
        if attempt >= 3:
            raise ApiError(status, body)


if __name__ == "__main__":
    run(Variants)
