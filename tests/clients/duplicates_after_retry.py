"""Bug: after a throttled answer it waits correctly but restarts the walk from the first page,
keeping the items it already collected (so the first pages come out twice)."""

from _driver import ApiError, Driver, run


class Restart(Exception):
    pass


class RestartsWalk(Driver):
    def on_throttled(self, status, headers, attempt):
        super().on_throttled(status, headers, attempt)
        raise Restart

    def collect(self):
        ids = []
        for _ in range(5):
            try:
                for op_id in self.walk():
                    ids.append(op_id)
                return ids
            except Restart:
                continue
        raise ApiError(429, b"gave up")


if __name__ == "__main__":
    run(RestartsWalk)
