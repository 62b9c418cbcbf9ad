"""Errors the user can act on: each carries an Indonesian reason (shown to users) and an English one."""

from __future__ import annotations


class InputError(ValueError):
    """A file or record cannot be read as a proposal; the batch goes on without it."""

    def __init__(self, reason_id: str, reason_en: str, *, file: str | None = None) -> None:
        super().__init__(reason_en)
        self.reason_id = reason_id
        self.reason_en = reason_en
        self.file = file

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.reason_en}"
