"""Bug: keeps dates as naive UTC datetimes (datetime.utcnow() style) and serialises them with
astimezone(), which takes a naive datetime as host-local time: right on a UTC host only."""

from datetime import datetime, timezone

from _driver import Driver, run


class NaiveUtcAsLocal(Driver):
    def format_param(self, name, value):
        if name in ("startDate", "endDate"):
            naive_utc = datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)
            return naive_utc.astimezone(timezone.utc).isoformat(timespec="microseconds")
        return str(value)


if __name__ == "__main__":
    run(NaiveUtcAsLocal)
