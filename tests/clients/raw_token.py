"""Bug: builds the query string by hand, so the token's '+', '/' and '=' go out unencoded."""

from _driver import Driver, run


class RawToken(Driver):
    def encode(self, pairs):
        return "&".join(f"{k}={v}" for k, v in pairs)


if __name__ == "__main__":
    run(RawToken)
