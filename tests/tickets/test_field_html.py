"""`{% form_field %}` renders exactly what includes/form_field.html renders, for every field of
the customer's ticket forms, unbound and bound with errors (and hidden and checkbox fields)."""

from django import forms
from django.template.loader import render_to_string
from django.test.html import parse_html

from core.field_html import field_html
from tickets.forms import (
    AccessDetailsForm,
    CustomerReplyForm,
    RatingForm,
    ReconsiderationForm,
    TicketFilterForm,
)


class HiddenAndCheckboxForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    agree = forms.BooleanField(label="I <agree>", help_text="See <em>terms</em>")


def bound_forms():
    bad = {"body": "", "message": "", "score": "9", "comment": "x" * 100_000, "host": "<b>"}
    return [
        CustomerReplyForm(),
        CustomerReplyForm(bad),
        ReconsiderationForm(),
        ReconsiderationForm(bad),
        RatingForm(),
        RatingForm(bad),
        AccessDetailsForm(),
        AccessDetailsForm(bad),
        TicketFilterForm(),
        HiddenAndCheckboxForm(),
        HiddenAndCheckboxForm({"token": "<script>", "agree": ""}),
    ]


def test_the_tag_renders_what_the_include_renders():
    for form in bound_forms():
        check_form(form)


def check_form(form):
    if form.is_bound:
        form.is_valid()
    for field in form:
        included = render_to_string("includes/form_field.html", {"field": field})
        assert parse_html(str(field_html(field))) == parse_html(included), (form, field.name)


def test_labels_and_values_are_escaped():
    form = HiddenAndCheckboxForm({"token": '"><script>alert(1)</script>', "agree": ""})
    form.is_valid()
    rendered = "".join(str(field_html(field)) for field in form)
    assert "<script>" not in rendered
    assert "I &lt;agree&gt;" in rendered
    assert "See <em>terms</em>" in rendered
