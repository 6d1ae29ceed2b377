"""Form fields the customer's pages and the admin share: several files in one input."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from .attachments import attachments_check
from .errors import AttachmentRejected


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, cleaned to a list (their limits are the services' to check)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files]


def _attachments_help() -> str:
    return _("Up to %(count)s files of at most %(size)s each: %(types)s.") % {
        "count": settings.HELPDESK_ATTACHMENT_MAX_COUNT,
        "size": filesizeformat(settings.HELPDESK_ATTACHMENT_MAX_BYTES),
        "types": ", ".join(settings.HELPDESK_ATTACHMENT_EXTENSIONS),
    }


class AttachmentsField(MultipleFileField):
    """Several files in one input, checked against the attachment limits here, so a refused file
    is explained next to the field; the limits are its help text and its `accept` types."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        kwargs.setdefault("help_text", lazy(_attachments_help, str)())
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["accept"] = ",".join(
            f".{extension}" for extension in settings.HELPDESK_ATTACHMENT_EXTENSIONS
        )
        return attrs

    def clean(self, data, initial=None):
        try:
            return attachments_check(super().clean(data, initial))
        except AttachmentRejected as error:
            raise forms.ValidationError(str(error), code="attachment") from error
