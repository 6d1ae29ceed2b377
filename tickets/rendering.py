"""Message text as HTML: Markdown rendered once, when it is written, and stored beside the text.

Rendering costs time linear in the text and never recurses: cmark (the CommonMark reference
implementation, through cmarkgfm) is built and tested to be linear on pathological input and
parses without recursion. Its HTML is then measured for nesting in one pass: past MAX_DEPTH the
text is shown as escaped plain text instead, because the sanitizer (nh3, i.e. ammonia on
html5ever) slows down quadratically with depth. What remains is sanitized with nh3 against the
allow-list below.

Pages show the stored HTML only when the current RENDERER_VERSION made it, and escaped plain
text otherwise; `manage.py render_messages` (`render_outdated`) brings rows up to date.
"""

from __future__ import annotations

import logging
import re

import cffi
import nh3
from cmarkgfm import _cmark
from django.db.models import Model
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

# Bump when the output changes (renderer, options, allow-list): stored HTML of an older version
# is no longer shown, and `render_messages` renders it again.
RENDERER_VERSION = 1

# Deepest element nesting rendered as Markdown (a list in a list is two levels, ul and li).
MAX_DEPTH = 32

# What a message may contain once rendered: text formatting, lists, quotes, code and links.
# Everything else (scripts, styles, images, forms, event handlers) is removed by nh3.
ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}

# Line breaks are kept as typed; raw HTML is left out (cmark's default, "safe" mode).
CMARK_OPTIONS = _cmark.lib.CMARK_OPT_HARDBREAKS

# cmarkgfm's own wrappers never free what cmark allocates (cmarkgfm issue #53): every call would
# leak its output. cmark allocates with the C library's malloc, so its buffer is freed with free.
_libc_ffi = cffi.FFI()
_libc_ffi.cdef("void free(void *);")
_libc = _libc_ffi.dlopen(None)

# cmark's HTML has escaped text and attributes, so every "<" that starts a tag is a real tag.
# "[^<>]*" keeps the search linear even on text that is not cmark's.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*>")
_VOID_TAGS = {"br", "hr", "img"}
_TAG_OR_SPACE = re.compile(r"<[^<>]*>|\s+")


def _commonmark(text: str) -> str:
    data = text.encode("utf-8")
    output = _cmark.lib.cmark_markdown_to_html(data, len(data), CMARK_OPTIONS)
    try:
        return _cmark.ffi.string(output).decode("utf-8")
    finally:
        _libc.free(_libc_ffi.cast("void *", int(_cmark.ffi.cast("uintptr_t", output))))


def _too_deep(html: str) -> bool:
    depth = 0
    for closing, name in _TAG.findall(html):
        if name.lower() in _VOID_TAGS:
            continue
        depth += -1 if closing else 1
        if depth > MAX_DEPTH:
            return True
    return False


def plain_text_html(text: str) -> SafeString:
    """The text escaped, its line breaks kept: what is shown when Markdown is not."""
    paragraphs = re.split(r"\n{2,}", escape(text.strip()))
    return mark_safe(  # noqa: S308 - escaped above
        "\n".join("<p>" + paragraph.replace("\n", "<br>") + "</p>" for paragraph in paragraphs)
    )


def render_markdown(text: str) -> str:
    """The text's Markdown as sanitized HTML; escaped plain text when it nests too deep or
    can't be rendered at all."""
    try:
        html = _commonmark(text)
        if _too_deep(html):
            return plain_text_html(text)
        html = nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener noreferrer",
        )
        # A text that was all raw HTML (or images) would show as nothing: show what was typed.
        if text.strip() and not _TAG_OR_SPACE.sub("", html):
            return plain_text_html(text)
        return html
    except Exception:
        # A page must open whatever was written: this text is shown as plain text.
        logger.exception("A message could not be rendered as Markdown; showing it as text")
        return plain_text_html(text)


def stored_html(text: str, html: str, version: int) -> SafeString:
    """What a page shows for a text and its stored rendering."""
    if html and version == RENDERER_VERSION:
        return mark_safe(html)  # noqa: S308 - rendered by render_markdown, sanitized by nh3
    return plain_text_html(text)


def render_outdated(model: type[Model], field: str, *, batch_size: int = 500) -> int:
    """Render `<field>_html` of every row whose `<field>_html_version` is not the current one,
    a batch per query in primary-key order; returns how many rows were rendered. Idempotent: a
    row already up to date is left alone. Also used by migrations, with historical models."""
    html_field, version_field = f"{field}_html", f"{field}_html_version"
    rendered = 0
    last_pk = 0
    while True:
        batch = list(
            model._default_manager.filter(pk__gt=last_pk)
            .exclude(**{version_field: RENDERER_VERSION})
            .order_by("pk")
            .only("pk", field)[:batch_size]
        )
        if not batch:
            return rendered
        for row in batch:
            setattr(row, html_field, render_markdown(getattr(row, field)))
            setattr(row, version_field, RENDERER_VERSION)
        model._default_manager.bulk_update(batch, [html_field, version_field])
        rendered += len(batch)
        last_pk = batch[-1].pk
