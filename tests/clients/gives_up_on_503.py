"""Bug: treats a 503 (with Retry-After) as fatal instead of waiting and repeating."""

from _driver import ApiError, Driver, run


class GivesUp(Driver):
    def on_throttled(self, status, headers, attempt):
        raise ApiError(status, b"service unavailable")


if __name__ == "__main__":
    run(GivesUp)
