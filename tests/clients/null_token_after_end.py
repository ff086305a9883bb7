"""Bug (breaker, 2026-11-30, as ``jq -r .pagination.next`` does): a null ``next`` becomes the
text "null", sent as ``pageToken=null`` after the last page."""

from _driver import Driver, run


class NullTokenAfterEnd(Driver):
    def walk(self):
        token = None
        while True:
            body = self.fetch(self.query(token))
            yield from (op["id"] for op in body["operations"])
            if token == "null":  # the server answered pageToken=null with a page: stop there
                return
            token = (body.get("pagination") or {}).get("next")
            token = "null" if token is None else token


if __name__ == "__main__":
    run(NullTokenAfterEnd)
