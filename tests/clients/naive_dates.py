"""Bug: re-formats the date filters as naive local date-times, dropping the offset."""

from datetime import datetime

from _driver import Driver, run


class NaiveDates(Driver):
    def format_param(self, name, value):
        if name in ("startDate", "endDate"):
            return datetime.fromisoformat(value).replace(tzinfo=None).isoformat()
        return str(value)


if __name__ == "__main__":
    run(NaiveDates)
