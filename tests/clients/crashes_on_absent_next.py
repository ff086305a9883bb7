"""Bug (breaker, 2026-11-30): reads ``pagination["next"]`` directly, so a last page that leaves
``next`` out (a FREE server branch) crashes the walk with a KeyError."""

from _driver import Driver, run


class CrashesOnAbsentNext(Driver):
    def next_token(self, body):
        return body["pagination"]["next"] or None


if __name__ == "__main__":
    run(CrashesOnAbsentNext)
