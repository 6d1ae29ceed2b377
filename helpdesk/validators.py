"""Validators for what people type into the account forms: names, addresses and passwords."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Control characters (NUL, escape, line breaks in a one-line field…) and lone surrogates: nothing
# a person means to type in a name, and some of them the database refuses to store.
_REFUSED_CATEGORIES = {"Cc", "Cs"}
# Long enough for any passphrase, short enough that hashing a submitted one stays cheap.
PASSWORD_MAX_LENGTH = 1024


def validate_no_control_characters(value: str) -> None:
    if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in value):
        raise ValidationError(
            _("Remove the control characters (such as tabs or line breaks) from this field."),
            code="control_characters",
        )


def validate_ascii_local_part(value: str) -> None:
    """Letters before the "@" are ASCII, as Django's e-mail validator means them to be.

    Its case-insensitive pattern also lets through Unicode letters that fold to ASCII ones (the
    Kelvin sign "K", the long "ſ", the dotless "ı"): look-alikes of other people's addresses.
    """
    if not value.rpartition("@")[0].isascii():
        raise ValidationError(_("Enter a valid email address."), code="invalid")


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
