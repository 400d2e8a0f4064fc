"""A one-line error panel: the last error with a way forward; hidden when there is none."""

from __future__ import annotations

from textual.widgets import Static


class ErrorBar(Static):
    def show_error(self, message: str | None) -> None:
        first_line = (message or "").strip().splitlines()[0] if message and message.strip() else ""
        self.update("✗ " + first_line if first_line else "")
        self.set_class(bool(first_line), "-visible")
