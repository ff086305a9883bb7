"""Bug: honours Retry-After but retries a throttled request for ever (no bound), so a throttle
that never lifts never ends (CONTRACT.md §5: at most 10 throttled answers in a row)."""

from _driver import Driver, run


class RetriesForever(Driver):
    max_throttled_attempts = float("inf")


if __name__ == "__main__":
    run(RetriesForever)
