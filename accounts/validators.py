"""Validators for what people type into the account forms: names and addresses."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Control characters (NUL, escape, line breaks in a one-line field…) and lone surrogates: nothing
# a person means to type in a name, and some of them the database refuses to store.
_REFUSED_CATEGORIES = {"Cc", "Cs"}


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
