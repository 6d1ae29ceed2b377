"""core.widgets.Select renders what Django's template-rendered Select renders."""

import re

import pytest
from django import forms

from core.widgets import Select

CHOICES = [("", "All"), ("open", "Open"), ("a&b", "<Tom & Jerry's>"), ("done", "Done")]


def django_form(widget):
    class Form(forms.Form):
        status = forms.ChoiceField(
            choices=CHOICES, required=True, help_text="Pick one.", widget=widget
        )

    return Form


def normalized(html: str) -> str:
    """Whitespace between elements and the order of attributes aside."""
    html = re.sub(r">\s+<", "><", str(html).strip())
    return re.sub(
        r"<(\w+)([^>]*)>",
        lambda tag: f"<{tag[1]} {' '.join(sorted(tag[2].split()))}>",
        html,
    )


@pytest.mark.parametrize("data", [None, {"status": "open"}, {"status": "a&b"}, {"status": "nope"}])
def test_the_select_is_djangos(data):
    ours = django_form(Select)(data)
    theirs = django_form(forms.Select)(data)
    if data:
        assert ours.is_valid() == theirs.is_valid()

    assert normalized(ours["status"]) == normalized(theirs["status"])
    assert ours["status"].widget_type == "select"


def test_grouped_choices_are_left_to_djangos_template():
    grouped = [("Group", [("a", "A"), ("b", "B")]), ("c", "C")]
    ours = Select(choices=grouped).render("field", "b")

    assert ours == forms.Select(choices=grouped).render("field", "b")
