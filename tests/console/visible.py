"""The text a reader sees on a page: no scripts, styles, hidden inputs or code samples (stdlib parser)."""

from __future__ import annotations

from html.parser import HTMLParser

SKIP = {"script", "style", "code", "pre", "textarea", "template", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skipping += 1
        values = dict(attrs)
        for name in ("placeholder", "title", "aria-label"):  # read out or shown on hover: visible too
            if values.get(name) and not self.skipping:
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
