"""What a person wrote, cut from the history they quoted and their signature, in the shapes
mail clients send (plain text; HTML goes through the sanitizer first)."""

import time

import pytest

from mail.text import html_to_text, reply_text
from notifications.envelope import REPLY_MARKER

CASES = [
    # Top-posted, the client's attribution in several languages.
    (
        "Yes, thanks.\n\nOn Mon, 2 Nov 2026 at 09:00, HelpDesk <s@h.example> wrote:\n> old",
        "Yes, thanks.",
    ),
    ("Danke.\n\nAm 02.11.2026 um 09:00 schrieb HelpDesk <s@h.example>:\n> alt", "Danke."),
    ("Merci.\n\nLe lun. 2 nov. 2026 à 09:00, HelpDesk <s@h.example> a écrit :\n> ancien", "Merci."),
    (
        "Gracias.\n\nEl lun, 2 nov 2026 a las 9:00, HelpDesk (<s@h.example>) escribió:\n> viejo",
        "Gracias.",
    ),
    ("Спасибо.\n\nПн, 2 нояб. 2026 г. в 09:00, HelpDesk <s@h.example>:\n> старое", "Спасибо."),
    (
        "Спасибо.\n\n2 ноября 2026 г., в 9:00, HelpDesk <s@h.example> написал(а):\n> старое",
        "Спасибо.",
    ),
    # Outlook's header block and its older separator.
    (
        "Fine.\n\nFrom: HelpDesk <s@h.example>\nSent: Monday, November 2, 2026 9:00 AM\n"
        "To: Pat\nSubject: RE: x\n\nold",
        "Fine.",
    ),
    ("Fine.\n\n-----Original Message-----\nFrom: HelpDesk\nSent: Monday\n\nold", "Fine."),
    # Our marker, quoted or not, and everything below it.
    (f"Done.\n\n{REPLY_MARKER}\nOur support team replied", "Done."),
    (f"Done.\n\nOn Mon, HelpDesk wrote:\n> {REPLY_MARKER}\n> Please", "Done."),
    # Bottom-posted below the quote, with a signature.
    (
        "On 02/11/2026 09:00, HelpDesk wrote:\n> Please clear it.\n\nCleared, works.\n\n-- \nPat",
        "Cleared, works.",
    ),
    # Signatures and phone footers.
    ("It works.\n\n--\nPat Jones\nACME", "It works."),
    ("It works.\n\nSent from my iPhone", "It works."),
    ("It works.\n\nGet Outlook for Android", "It works."),
    # Inline answers keep the answers, drop the quoted lines.
    ("> Which version?\n4.5.1\n> Which PHP?\n8.2", "4.5.1\n8.2"),
    # Text that merely looks a little like an attribution is kept.
    (
        "On the checkout page, the total is wrong:\n- tax missing",
        "On the checkout page, the total is wrong:\n- tax missing",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_reply_is_cut_from_the_quote_and_signature(text, expected):
    assert reply_text(text) == expected


def test_line_breaks_of_any_kind_and_non_breaking_spaces_are_normalised():
    assert reply_text("Thanks,\r\nall good.\r\n\r\nOn Mon, X <a@b.example> wrote:\r\n> q") == (
        "Thanks,\nall good."
    )


def test_html_becomes_text_without_quotes_scripts_or_styles():
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>First &amp; <b>second</b></p><div>third<br>fourth</div>"
        "<script>alert('x')</script><img src=x onerror=alert(1)>"
        "<!-- a comment --><blockquote type='cite'>quoted</blockquote></body></html>"
    )
    assert html_to_text(html) == "First & second\nthird\nfourth"


@pytest.mark.parametrize(
    "marker",
    [
        '<div class="gmail_quote">',
        '<div class="moz-cite-prefix">',
        '<div id="divRplyFwdMsg" dir="ltr">',
        '<div id="appendonsend"></div>',
        '<blockquote type="cite">',
        '<div class="yahoo_quoted">',
    ],
)
def test_html_quotes_of_each_client_are_cut(marker):
    assert html_to_text(f"<p>Answer</p>{marker}<p>History</p></div>") == "Answer"


def test_deeply_nested_or_huge_html_stays_fast_and_safe():
    deep = "<div>" * 50_000 + "deep text" + "</div>" * 50_000
    assert html_to_text(deep) == "deep text"
    escaped = html_to_text("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert escaped == "<script>alert(1)</script>", "shown as text: the ticket escapes it"


@pytest.mark.parametrize(
    "text",
    [
        "On " * 70_000,
        "Am " * 70_000 + "schrieb",
        "> " * 100_000,
        "\n".join(["On " * 166] * 120),
        "\n".join(["On " * 166] * 40),  # just within what the library reads
        "On Mon <a@b.example> wrote:\n" * 10_000,
        "1 <a@b.example>" * 20_000,
        "a" * 30_000_000,
        "\n" * 1_000_000,
    ],
)
def test_cutting_takes_bounded_time_whatever_the_text(text):
    started = time.perf_counter()
    reply_text(text)
    assert time.perf_counter() - started < 5
