"""The one root of every refusal the HelpDesk's services raise.

A refused operation changed nothing. Each error carries a stable, machine-readable `code` (what an
API client or a test can rely on; it never changes with the wording) and a message fit to show a
person (`str(error)`, translated). Pages show the message, the API will turn the code into a
problem type; both catch `HelpDeskError` and need no tuple of app-specific roots.
"""

from __future__ import annotations


class HelpDeskError(Exception):
    """An operation was refused; nothing was changed."""

    code = "refused"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)
