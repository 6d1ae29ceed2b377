"""The template snippets later pages reuse."""

from urllib.parse import parse_qs, urlsplit

from django import forms
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests.html import attr, find, find_all, parse, text


def pagination(page_number: int, url: str = "/tickets/?status=open&q=printer") -> str:
    request = RequestFactory().get(url + f"&page={page_number}")
    page_obj = Paginator(list(range(100)), per_page=10).page(page_number)
    return render_to_string("includes/pagination.html", {"page_obj": page_obj}, request=request)


def links(html: str) -> dict[str, dict[str, list[str]]]:
    """Link text → its query parameters."""
    return {text(a): parse_qs(urlsplit(attr(a, "href")).query) for a in find_all(parse(html), "a")}


def test_pagination_links_keep_the_other_query_parameters():
    page_links = links(pagination(5))

    assert page_links == {
        "« First": {"status": ["open"], "q": ["printer"], "page": ["1"]},
        "‹ Previous": {"status": ["open"], "q": ["printer"], "page": ["4"]},
        "Next ›": {"status": ["open"], "q": ["printer"], "page": ["6"]},
        "Last »": {"status": ["open"], "q": ["printer"], "page": ["10"]},
    }
    assert "Page 5 of 10" in text(parse(pagination(5)))


def test_pagination_offers_no_link_beyond_the_first_and_last_page():
    assert set(links(pagination(1))) == {"Next ›", "Last »"}
    assert set(links(pagination(10))) == {"« First", "‹ Previous"}


def test_pagination_is_absent_for_a_single_page():
    request = RequestFactory().get("/tickets/")
    page_obj = Paginator([1, 2, 3], per_page=10).page(1)

    html = render_to_string("includes/pagination.html", {"page_obj": page_obj}, request=request)

    assert html.strip() == ""


class ExampleForm(forms.Form):
    subject = forms.CharField(help_text="One line that sums up the problem.")
    notes = forms.CharField(required=False)
    urgent = forms.BooleanField(required=False, label="Urgent")


def render_field(form, name):
    html = render_to_string("includes/form_field.html", {"field": form[name]})
    return parse(html)


def test_form_field_links_help_text_and_errors_to_the_input():
    form = ExampleForm(data={"subject": ""})
    assert not form.is_valid()

    field = render_field(form, "subject")

    label = find(field, "label")
    assert attr(label, "for") == "id_subject"
    assert text(label) == "Subject"
    described_by = attr(find(field, "input"), "aria-describedby").split()
    assert set(described_by) == {"id_subject_helptext", "id_subject_error"}
    assert (
        text(find(field, "div", id="id_subject_helptext")) == "One line that sums up the problem."
    )
    assert text(find(field, "ul", id="id_subject_error")) == "This field is required."
    assert attr(find(field, "input"), "aria-invalid") == "true"


def test_form_field_marks_optional_fields_and_keeps_checkboxes_inside_their_label():
    form = ExampleForm()

    assert text(find(render_field(form, "notes"), "label")) == "Notes (optional)"
    checkbox_label = find(render_field(form, "urgent"), "label")
    assert find(checkbox_label, "input", type="checkbox")
    assert text(checkbox_label) == "Urgent"
