"""Free text people type: bounded in length, one kind of line break, no control characters.

Forms use `BoundedTextField`; services that store text call `text_check` too, so a caller that
skips the form (a command, another channel) can't store what the form refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import HelpDeskError

# A reason, note, comment or other short text that is not a message of the thread.
REASON_MAX_CHARS = 4000

# C0 and C1 control characters except tab and newline (carriage returns are normalized away
# first), and lone surrogates, which no database encoding can store.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

Limit = int | Callable[[], int]


class TextRejected(HelpDeskError, ValueError):
    """The text can't be stored."""

    code = "invalid_text"


def normalize_newlines(value: str) -> str:
    """Browsers send textarea line breaks as CRLF; store and count them as one character."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _limit(max_length: Limit) -> int:
    return max_length() if callable(max_length) else max_length


def validate_no_control_characters(value: str) -> None:
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            gettext_lazy(
                "This text contains control characters (such as NUL) that can't be stored. "
                "Please remove them."
            ),
            code="control_characters",
        )


def text_check(value: str, *, max_length: Limit, label: str, strip: bool = True) -> str:
    """The text with normalized line breaks (and stripped, unless `strip` is false);
    TextRejected when it is too long or holds control characters (`label` names it)."""
    value = normalize_newlines(value or "")
    if strip:
        value = value.strip()
    limit = _limit(max_length)
    if len(value) > limit:
        raise TextRejected(
            _("%(label)s is too long: at most %(limit)s characters, not %(length)s.")
            % {"label": label, "limit": limit, "length": len(value)}
        )
    if CONTROL_CHARACTERS.search(value):
        raise TextRejected(
            _("%(label)s contains control characters (such as NUL) that can't be stored.")
            % {"label": label}
        )
    return value


class BoundedTextField(forms.CharField):
    """A CharField bounded by `max_length` (a number, or a callable that reads a setting when
    the form is used), with line breaks normalized and control characters refused."""

    def __init__(self, *, max_length: Limit, **kwargs):
        self.max_chars = max_length
        super().__init__(**kwargs)
        # Django's own NUL check would say it twice: the control-character check covers NUL.
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]
        self.validators.append(MaxLengthValidator(lambda: _limit(self.max_chars)))
        self.validators.append(validate_no_control_characters)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_newlines(value) if value else value

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if not widget.is_hidden:
            # Lazy: a setting is read when the page is rendered, not when the form is defined.
            attrs["maxlength"] = lazy(lambda: str(_limit(self.max_chars)), str)()
        return attrs
