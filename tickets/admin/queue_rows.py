"""The queue's rows, rendered as Django's `items_for_result` renders them, for a part of its CPU.

At 100 rows Django's generic path was most of the queue's cost: for each of the 900 cells it looks
the column up again and builds the empty value's text, and for each of the two link columns it
reverses the ticket's URL and merges the preserved filters into it. Here what is the same on every
row is worked out once per page (each column's kind, class and link; the URL's parts and the
filters' query) and a row is one string. The columns' display methods (`QueueColumns`) stay the one
place that says what a cell shows; `tests/tickets/test_admin_queue_rows.py` holds the output equal
to Django's.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _boolean_icon,
    result_headers,
    result_list,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe

# Stands for the primary key while the change URL's parts are found, once per page.
_PK_MARK = "__queue_pk__"


def queue_result_list(cl) -> dict:
    """The context of `admin/change_list_results.html`, as `result_list` gives it, each row a
    single string. Editable lists, popups and callable columns, which the queue has none of, get
    Django's own rows."""
    named_columns = all(isinstance(name, str) for name in cl.list_display)
    if cl.formset or cl.is_popup or cl.to_field or not named_columns:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [ResultList(None, [row]) for row in queue_rows(cl)],
    }


def queue_rows(cl) -> list[str]:
    """Each result's cells, one safe string per row."""
    link = _ResultLink(cl)
    cells = []
    first = True
    for name in cl.list_display:
        is_link = _is_link(cl, name, first=first)
        column = _column(cl, name, avoid_link=is_link)
        if is_link:
            cells.append(column.linked(link, "th" if first else "td"))
            first = False
        else:
            cells.append(column.cell)
    return [mark_safe("".join([cell(result) for cell in cells])) for result in cl.result_list]


def _is_link(cl, name, *, first: bool) -> bool:
    if cl.list_display_links is None:
        return False
    if first and not cl.list_display_links:
        return True
    return name in cl.list_display_links


@dataclass(frozen=True)
class _Column:
    """One column: how a row's value is read and shown (as escaped HTML), and its cell's class.
    `nowrap` is None when it depends on the value (a method's date or time), as in
    `items_for_result`."""

    classes: str
    value_of: Callable[[Any], Any]
    display: Callable[[Any], str]
    nowrap: bool | None

    def _content(self, result) -> tuple[str, str]:
        value = self.value_of(result)
        if isinstance(value, str) and not value.strip():
            value = ""
        classes = self.classes
        if self.nowrap or (
            self.nowrap is None and isinstance(value, datetime.date | datetime.time)
        ):
            classes += " nowrap"
        return classes, self.display(value)

    def cell(self, result) -> str:
        classes, content = self._content(result)
        return f'<td class="{classes}">{content}</td>'

    def linked(self, link, tag) -> Callable[[Any], str]:
        def cell(result):
            classes, content = self._content(result)
            return f'<{tag} class="{classes}"><a href="{link(result)}">{content}</a></{tag}>'

        return cell


def _column(cl, name, *, avoid_link: bool) -> _Column:
    """The same cases as `items_for_result`: a display method (of the admin or the model), a
    relation (its object's text) or any other field (`display_for_field`)."""
    empty = cl.model_admin.get_empty_value_display()
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is None or field.auto_created:
        if hasattr(cl.model_admin, name) and name != "__str__":
            attr = getattr(cl.model_admin, name)
            value_of = attr
        else:
            attr = getattr(cl.model, name)

            def value_of(result):
                value = getattr(result, name)
                return value() if callable(value) else value

        column_empty = getattr(attr, "empty_value_display", empty)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        else:
            boolean = getattr(attr, "boolean", False)

        def display(value):
            if boolean:
                return _boolean_icon(value)
            # What display_for_value makes of text, for the methods' usual answer.
            if isinstance(value, str) and value:
                return value if isinstance(value, SafeData) else html.escape(value)
            return escaped(display_for_value(value, column_empty))

        classes = "action-checkbox" if name == "action_checkbox" else f"field-{name}"
        return _Column(classes, value_of, display, nowrap=None)
    nowrap = isinstance(field, models.DateField | models.TimeField | models.ForeignKey)
    if isinstance(field.remote_field, models.ManyToOneRel):
        related = field.name

        def value_of(result):
            return getattr(result, related)

        def display(value):
            return empty if value is None else html.escape(str(value))

        return _Column(f"field-{name}", value_of, display, nowrap)
    attname = field.attname

    def value_of(result):
        return getattr(result, attname)

    def display(value):
        return escaped(display_for_field(value, field, empty, avoid_link=avoid_link))

    return _Column(f"field-{name}", value_of, display, nowrap)


def escaped(value) -> str:
    """`conditional_escape` without its lazy-string wrapper, which cost as much as the escaping."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def lean_format_html(format_string: str, *args) -> SafeString:
    """`format_html` for the queue's cells, without the lazy-string wrapper around each
    argument's escaping (a third of the columns' own cost at 100 rows)."""
    return SafeString(format_string.format(*[escaped(arg) for arg in args]))


class _ResultLink:
    """A result's change URL with the list's filters preserved, escaped for an attribute, as
    `items_for_result` links it: reversed and merged once per page, then only the key changes."""

    def __init__(self, cl):
        self.pk_attname = cl.lookup_opts.pk.attname
        marked = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(_PK_MARK,),
            current_app=cl.model_admin.admin_site.name,
        )
        self.head, _, self.tail = marked.partition(_PK_MARK)
        context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        query = urlsplit(add_preserved_filters(context, marked)).query
        if query:
            self.tail += "?" + query
        self.head, self.tail = escape(self.head), escape(self.tail)

    def __call__(self, result) -> str:
        return f"{self.head}{escape(quote(getattr(result, self.pk_attname)))}{self.tail}"
