"""The password validator that AUTH_PASSWORD_VALIDATORS names, and its bound."""

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

# Long enough for any passphrase, short enough that hashing a submitted one stays cheap.
PASSWORD_MAX_LENGTH = 1024


class MaximumLengthValidator:
    """A password is at most `max_length` characters."""

    def __init__(self, max_length: int = PASSWORD_MAX_LENGTH):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can’t contain more than %(max_length)d character.",
            "Your password can’t contain more than %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}
