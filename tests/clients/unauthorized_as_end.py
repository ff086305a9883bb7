"""Bug (breaker, 2026-11-30): a 401 mid-walk is read as "no more data": the driver prints what
it has and exits 0. A 403 is surfaced correctly, so only a 401 scenario catches it."""

from _driver import ApiError, Driver, run


class UnauthorizedAsEnd(Driver):
    def collect(self):
        ids = []
        try:
            for op_id in self.walk():
                ids.append(op_id)
        except ApiError as err:
            if err.status != 401:
                raise
        return ids


if __name__ == "__main__":
    run(UnauthorizedAsEnd)
