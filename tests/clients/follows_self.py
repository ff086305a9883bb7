"""Bug: follows pagination.self instead of pagination.next (loops on the first page)."""

from _driver import Driver, run


class FollowsSelf(Driver):
    def next_token(self, body):
        return (body.get("pagination") or {}).get("self") or None


if __name__ == "__main__":
    run(FollowsSelf)
