"""Receipts and credit notes as printable HTML and as PDF (WeasyPrint renders the same HTML)."""

from __future__ import annotations

import functools

from django.conf import settings
from django.template.loader import render_to_string

from .models import CreditNote, Receipt


def receipt_html(receipt: Receipt, *, printable_page: bool = False) -> str:
    return render_to_string(
        "billing/receipt.html",
        {"document": receipt, "receipt": receipt, "printable_page": printable_page},
    )


def credit_note_html(note: CreditNote, *, printable_page: bool = False) -> str:
    return render_to_string(
        "billing/credit_note.html",
        {"document": note, "note": note, "printable_page": printable_page},
    )


STYLESHEET = "css/billing-document.css"


@functools.cache
def _stylesheet():
    """The documents' stylesheet, parsed once per process (with the fonts it uses)."""
    # Imported here: WeasyPrint loads Pango when imported, which only the documents need.
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(filename=str(settings.BASE_DIR / "static" / STYLESHEET), font_config=fonts)
    return css, fonts


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    css, fonts = _stylesheet()
    return HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts)


def receipt_pdf(receipt: Receipt) -> bytes:
    return _pdf(receipt_html(receipt))


def credit_note_pdf(note: CreditNote) -> bytes:
    return _pdf(credit_note_html(note))
