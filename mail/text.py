"""The words a person wrote in an e-mail: HTML turned into text through the sanitizer, the quoted
history and the signature cut off.

Cutting works on top-posted replies (the reply above the quote: Gmail, Outlook, Apple Mail) and
bottom-posted ones (below a ``>`` quote: Thunderbird, mutt). It first cuts at our own "reply
above this line" marker, then lets `mail-parser-reply` find the client's attribution line ("On …
wrote:", "Am … schrieb", "-----Original Message-----" and their translations), then removes what
is left of quoted lines, attribution lines and the signature.
"""

from __future__ import annotations

import html
import re

import nh3
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

from core.text import CONTROL_CHARACTERS, normalize_newlines
from notifications.envelope import REPLY_MARKER

# Where mail clients start the quoted message in HTML: Gmail, Thunderbird, Apple Mail, Outlook
# (desktop and web), Yahoo.
# Attributes are searched at most 300 characters into a tag, so that the search stays linear.
HTML_QUOTE_STARTS = re.compile(
    r"<div[^<>]{0,300}class=[\"']?gmail_quote|<div[^<>]{0,300}class=[\"']?moz-cite-prefix"
    r"|<blockquote[^<>]{0,300}type=[\"']?cite"
    r"|<div[^<>]{0,300}id=[\"']?(?:divRplyFwdMsg|appendonsend)"
    r"|<div[^<>]{0,300}(?:id|class)=[\"']?(?:ydp[0-9a-f]*)?yahoo_quoted"
    r"|<hr[^<>]{0,300}id=[\"']?stopSpelling",
    re.IGNORECASE,
)
BLOCK_END = re.compile(
    r"<br\s*/?>|</(?:p|div|li|tr|h[1-6]|blockquote|pre|table)\s*>", re.IGNORECASE
)
# Elements whose content is not text to keep.
NOT_TEXT = {"script", "style", "head", "title", "template"}
TAG = re.compile(r"<[^<>]*>")
# Past this many open tags the sanitizer slows down (quadratic in depth): strip them instead.
MAX_TAGS_FOR_SANITIZER = 20_000
# The most of an e-mail's HTML and text that is read (a message keeps far less, see
# HELPDESK_MESSAGE_MAX_CHARS): cutting quotes costs time linear in what is read.
MAX_HTML_CHARS = 2_000_000
MAX_TEXT_CHARS = 200_000
# mail-parser-reply's patterns take superlinear time on long lines (a line of "On On On …"):
# it reads texts up to this size whose lines are all this short; the rest is cut by the
# patterns here alone, which are linear.
LIBRARY_MAX_CHARS = 20_000
LIBRARY_MAX_LINE_CHARS = 500
# An attribution line left behind: "On <date>, <someone> wrote:" and its translations.
# Either the words ("On … wrote:", "Am … schrieb:", "Le … a écrit :"…) or a date, an address in
# brackets and a colon after at most a few words (Gmail's "Пн, 3 нояб. 2026 г. в 10:00, Name
# <address>:", Apple Mail's "2 ноября 2026 г., в 9:00, Name <address> написал(а):").
ATTRIBUTION = re.compile(
    r"^\s*(?:on|am|le|el|il|op|em|den|dne|w dniu|в)\b.{0,300}"
    r"(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napsal|napisał|"
    r"написал|написала|пишет)\s*:?\s*$"
    r"|^.{0,200}\d.{0,200}<[^<>@\s]+@[^<>\s]+>[^<>:]{0,40}:\s*$",
    re.IGNORECASE,
)
SIGNATURE_START = re.compile(
    r"^(?:-- ?|__+|sent from my \w+.*|envoyé de mon \w+.*|von meinem \w+ gesendet.*"
    r"|get outlook for \w+.*|отправлено с \w+.*)$",
    re.IGNORECASE,
)
_parser = EmailReplyParser(languages=list(MAIL_LANGUAGES))


def html_to_text(markup: str) -> str:
    """The text of an HTML e-mail, without its quoted history, tags, scripts and styles."""
    markup = markup[:MAX_HTML_CHARS]
    quote = HTML_QUOTE_STARTS.search(markup)
    if quote:
        markup = markup[: quote.start()]
    markup = BLOCK_END.sub("\n", markup)
    if markup.count("<") > MAX_TAGS_FOR_SANITIZER:
        text = TAG.sub("", markup)
    else:
        # The sanitizer with nothing allowed: every tag and comment is gone (scripts and styles
        # with their content), the text escaped.
        text = nh3.clean(markup, tags=set(), clean_content_tags=NOT_TEXT, attributes={})
    lines = [" ".join(line.split()) for line in html.unescape(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _before_marker(text: str) -> str:
    """The text above our marker line, and above the attribution line just before it."""
    index = text.find(REPLY_MARKER)
    if index < 0:
        return text
    lines = text[:index].split("\n")[:-1]  # the marker's own line (with any "> " before it)
    while lines and (not lines[-1].strip() or ATTRIBUTION.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()


def _without_quotes_and_signature(text: str) -> str:
    kept = []
    for line in text.split("\n"):
        if SIGNATURE_START.match(line.strip()) or line.rstrip() == "--":
            break
        if line.lstrip().startswith(">") or ATTRIBUTION.match(line):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def reply_text(text: str) -> str:
    """What the sender wrote, without the history they quoted or their signature."""
    text = normalize_newlines((text or "")[:MAX_TEXT_CHARS]).replace("\u00a0", " ")
    # What can't be stored or shown (NUL, escapes, lone surrogates) is dropped, not refused: an
    # e-mail can't be corrected and sent again like a form.
    text = CONTROL_CHARACTERS.sub("", text)
    # Nothing above the marker: a bottom-posted reply, below the quote.
    text = _before_marker(text) or text
    latest = text
    if len(text) <= LIBRARY_MAX_CHARS and all(
        len(line) <= LIBRARY_MAX_LINE_CHARS for line in text.split("\n")
    ):
        try:
            latest = _parser.parse_reply(text) or ""
        except Exception:  # the library failing on odd input must not lose the message
            latest = text
    reply = _without_quotes_and_signature(latest)
    if not reply:
        # A bottom-posted reply: the library cut at the attribution line above the quote.
        reply = _without_quotes_and_signature(text)
    return reply
