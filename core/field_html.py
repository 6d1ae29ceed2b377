"""One form field as HTML, the markup of templates/includes/form_field.html built in Python.

Pages that show several forms on every request (the customer's ticket page) render their fields
with this rather than an include per field, which costs a template context and a dozen variable
lookups each; tests/core/test_field_html.py holds the two to the same output.
"""

from __future__ import annotations

from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


def field_html(field: BoundField) -> SafeString:
    """The label above (optional fields say so), the input, then its errors and help text,
    both linked to the input through aria-describedby (Django adds "<id>_error" and
    "<id>_helptext" to the widget)."""
    if field.is_hidden:
        return mark_safe(str(field))  # noqa: S308 - the widget's own escaped rendering
    optional = (
        format_html(' <span class="optional">{}</span>', gettext("(optional)"))
        if not field.field.required
        else ""
    )
    if field.use_fieldset:
        labelled = format_html(
            "<fieldset><legend>{}{}</legend>{}</fieldset>", field.label, optional, field
        )
    elif field.widget_type == "checkbox":
        labelled = format_html(
            '<label for="{}">{} {}</label>', field.id_for_label, field, field.label
        )
    else:
        labelled = format_html(
            '<label for="{}">{}{}</label>{}', field.id_for_label, field.label, optional, field
        )
    help_text = (
        format_html(
            '<div class="helptext" id="{}_helptext">{}</div>',
            field.auto_id,
            mark_safe(field.help_text),  # noqa: S308 - help texts are the code's own HTML
        )
        if field.help_text
        else ""
    )
    return format_html(
        '<div class="field field-{}{}" id="field-{}">{}{}{}</div>',
        field.widget_type,
        " field-invalid" if field.errors else "",
        field.html_name,
        labelled,
        field.errors,
        help_text,
    )
