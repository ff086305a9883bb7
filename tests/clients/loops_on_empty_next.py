"""Bug: treats next == "" as a token (only None ends the walk), so it asks again with an empty
pageToken after the last page (bounded at 6 pages here so the test ends)."""

from _driver import Driver, run


class LoopsOnEmpty(Driver):
    def next_token(self, body):
        return (body.get("pagination") or {}).get("next")

    def walk(self):
        token, pages = None, 0
        while pages < 6:
            body = self.fetch(self.query(token))
            pages += 1
            yield from (op["id"] for op in body["operations"])
            token = self.next_token(body)
            if token is None:
                return


if __name__ == "__main__":
    run(LoopsOnEmpty)
