"""Bug: waits 10 % less than Retry-After every time (a "minus 10 %" jitter that never draws
high): each repeat comes 100 ms early on Retry-After: 1."""

from _driver import Driver, run


class ShortWait(Driver):
    def retry_delay(self, headers):
        return super().retry_delay(headers) * 0.9


if __name__ == "__main__":
    run(ShortWait)
