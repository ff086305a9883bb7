"""Bug (breaker, 2026-11-30, as urllib's HTTPBasicAuthHandler does): credentials are sent only
after a 401 challenge, so every first try goes out unauthenticated and is repeated."""

from _driver import Driver, run


class ChallengeAuth(Driver):
    def send(self, pairs):
        self.challenged = getattr(self, "challenged", False)
        status, headers, body = super().send(pairs)
        if status == 401 and not self.challenged:
            self.challenged = True
            status, headers, body = super().send(pairs)
        self.challenged = False
        return status, headers, body

    def auth_header(self):
        return super().auth_header() if getattr(self, "challenged", False) else None


if __name__ == "__main__":
    run(ChallengeAuth)
