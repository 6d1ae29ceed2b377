"""Message text as HTML: Markdown rendered once when written, in time linear in the text and
bounded in depth, sanitized; pages show it whatever was written, and old renderings are redone
by `render_messages` and by the migration that introduced them."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from tests.admin_support import file_ticket, support_staff_user, ticket_url
from tests.factories import IssueCategoryFactory, account_owner
from tests.html import find, find_all, parse, text
from tests.web import count_queries
from tickets import services
from tickets.models import Message, Quote
from tickets.rendering import MAX_DEPTH, RENDERER_VERSION, render_markdown

pytestmark = pytest.mark.django_db

SIZE = 50_000
# Generous for a slow machine: the quadratic renderer took seconds on a fifth of this size.
CPU_BUDGET_SECONDS = 0.2


def nested_list(levels: int) -> str:
    """A list nested `levels` deep, one item per line (200 levels take 41,400 characters)."""
    return "".join("  " * level + "- item\n" for level in range(levels))


PATHOLOGICAL = {
    "nested lists": nested_list(200),
    "nested lists on one line": "- " * (SIZE // 2 - 1) + "x",
    "nested ordered lists": "1. " * (SIZE // 3 - 1) + "x",
    "nested block quotes": ">" * SIZE,
    "nested block quotes with lists": "> - " * (SIZE // 4),
    "nested emphasis": "*a **b " * (SIZE // 7),
    "emphasis closers": "a**" * (SIZE // 3),
    "brackets": "[" * SIZE,
    "balanced brackets": "[" * (SIZE // 2) + "]" * (SIZE // 2),
    "image brackets": "![[" * (SIZE // 3),
    "link openers": "[a](" * (SIZE // 4),
    "link closers": "](" * (SIZE // 2),
    "asterisks": "*" * SIZE,
    "underscores": "_" * SIZE,
    "backticks": "`" * SIZE,
    "backtick runs": "`a``" * (SIZE // 4),
    "angle brackets": "<" * SIZE,
    "tag openers": "<a" * (SIZE // 2),
    "comments": "<!--" * (SIZE // 4),
    "entities": "&#" * (SIZE // 2),
    "backslashes": "\\" * SIZE,
    "mixed": "[*_`<](<a" * (SIZE // 9),
    "reference expansion": "[a]: https://example.com/" + "x" * (SIZE // 2) + "\n\n" + "[a]" * 8000,
    "hard line breaks": "a\n" * (SIZE // 2),
}


@pytest.mark.parametrize("body", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_text_renders_within_a_small_cpu_budget(body):
    assert len(body) <= SIZE + 10

    # The best of three runs: a quadratic renderer costs seconds every time, while a pause of the
    # shared machine (another process, the collector) only slows one run.
    spent = []
    for _ in range(3):
        started = time.process_time()
        html = render_markdown(body)
        spent.append(time.process_time() - started)

    assert min(spent) < CPU_BUDGET_SECONDS, f"{min(spent):.3f} s"
    assert html


def test_rendering_time_grows_linearly_not_quadratically():
    """Ten times the text costs about ten times the time, not a hundred."""

    def cost(size):
        body = "[*_`<](<a" * (size // 9)
        started = time.process_time()
        for _ in range(5):
            render_markdown(body)
        return time.process_time() - started

    small, large = cost(5_000), cost(50_000)
    assert large < 30 * max(small, 0.001)


def test_markdown_keeps_line_breaks_code_blocks_and_links_and_drops_scripts():
    html = render_markdown(
        "**Bold** and `code`\nnext line\n\n"
        "```python\nif a < b:\n    print('<b>')\n```\n\n"
        "<script>alert('x')</script>\n\n"
        '<img src=x onerror="alert(1)"> [bad](javascript:alert(2)) [ok](https://example.com)\n\n'
        "- one\n- two"
    )

    assert "<strong>Bold</strong> and <code>code</code><br>\nnext line" in html
    assert "<pre><code>if a &lt; b:\n    print('&lt;b&gt;')\n</code></pre>" in html
    assert "<script" not in html and "alert('x')" not in html
    assert "onerror" not in html and "<img" not in html
    assert "javascript:" not in html
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">ok</a>' in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html


def test_raw_html_is_not_rendered():
    html = render_markdown('Click <a href="https://evil.example">here</a> <b>now</b>')

    assert "evil.example" not in html
    assert "<b>" not in html
    assert "here" in html and "now" in html


@pytest.mark.parametrize(
    "body",
    [
        '<div class="price">\n  <span>$10</span>\n</div>',
        "<!--" * 100,
        "![logo](https://e.com/a.png)",
    ],
    ids=["html block", "comments", "image"],
)
def test_text_that_would_render_as_nothing_is_shown_as_plain_text(body):
    html = render_markdown(body)

    assert html.startswith("<p>")
    assert "&lt;" in html or "![logo]" in html
    assert "<div" not in html and "<span" not in html and "<img" not in html


def test_nesting_within_the_limit_is_rendered_as_markdown():
    html = render_markdown(nested_list(MAX_DEPTH // 2 - 1))

    assert html.count("<ul>") == MAX_DEPTH // 2 - 1


@pytest.mark.parametrize(
    "body",
    [nested_list(300), ">" * 5000 + " deep", "*a " * 200 + "b" + "*" * 200, "- " * 300 + "x"],
    ids=["lists", "block quotes", "emphasis", "lists on one line"],
)
def test_nesting_past_the_limit_is_shown_as_escaped_plain_text(body):
    html = render_markdown(body + "\n<b>bold?</b>")

    assert html.startswith("<p>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<ul>" not in html and "<blockquote>" not in html and "<em>" not in html


def test_plain_text_keeps_line_breaks_and_paragraphs():
    html = render_markdown(nested_list(300) + "last line\n\nnew paragraph")

    assert html.startswith("<p>- item<br>  - item<br>")
    assert html.endswith("- item<br>last line</p>\n<p>new paragraph</p>")


def test_text_that_cannot_be_rendered_is_shown_as_plain_text(caplog):
    html = render_markdown("a lone surrogate \ud800 <b>")

    assert html == "<p>a lone surrogate \ud800 &lt;b&gt;</p>"
    assert "could not be rendered" in caplog.text


# --- Stored with the message, shown by the pages --------------------------------------------


def test_messages_and_quote_notes_are_rendered_when_written():
    staff = support_staff_user()
    ticket = file_ticket(description="**Filed**")
    reply = services.ticket_reply(ticket=ticket, author=staff, body="_Reply_")
    quoted = file_ticket(ticket.account, IssueCategoryFactory(upon_request=True))
    quote = services.ticket_set_quote(ticket=quoted, points=90, note="`3` modules", actor=staff)

    first = ticket.messages.order_by("pk").first()
    assert (first.body_html, first.body_html_version) == (
        "<p><strong>Filed</strong></p>\n",
        RENDERER_VERSION,
    )
    assert reply.body_html == "<p><em>Reply</em></p>\n"
    assert (quote.note_html, quote.note_html_version) == (
        "<p><code>3</code> modules</p>\n",
        RENDERER_VERSION,
    )


def test_pages_show_a_rendering_of_an_older_renderer_as_plain_text(client):
    ticket = file_ticket(description="**Bold**\nnext")
    Message.objects.update(body_html="<p>stale <i>markup</i></p>", body_html_version=0)
    client.force_login(account_owner(ticket.account))

    body = find(parse(client.get(f"/tickets/{ticket.pk}/").content), "div", class_="message-body")

    assert text(body) == "**Bold** next"
    assert "stale" not in text(body)


def pathological_thread():
    """A ticket whose description, replies and internal note are each a pathological text."""
    staff = support_staff_user()
    ticket = file_ticket(description=nested_list(200))
    customer = account_owner(ticket.account)
    for body in ["- " * 300 + "x", "[" * 10_000, "<a" * 5000, "> " * 5000 + "*a **b " * 5000]:
        services.ticket_reply(ticket=ticket, author=customer, body=body)
    services.ticket_reply(ticket=ticket, author=staff, body="- " * 20_000, internal=True)
    services.ticket_reply(ticket=ticket, author=staff, body="`" * SIZE)
    return ticket, staff


def test_customer_ticket_page_opens_with_pathological_messages(client):
    ticket, _staff = pathological_thread()
    client.force_login(account_owner(ticket.account))

    started = time.process_time()
    response = client.get(f"/tickets/{ticket.pk}/")

    assert response.status_code == 200
    assert time.process_time() - started < 1
    bodies = find_all(parse(response.content), "div", class_="message-body")
    assert len(bodies) == 6
    assert text(bodies[0]).startswith("- item - item")


def test_admin_ticket_page_opens_with_pathological_messages(client):
    ticket, staff = pathological_thread()
    client.force_login(staff)

    started = time.process_time()
    response = client.get(ticket_url(ticket))

    assert response.status_code == 200
    assert time.process_time() - started < 1
    bodies = find_all(parse(response.content), "div", class_="hd-message-body")
    assert len(bodies) == 7
    assert text(bodies[0]).startswith("- item - item")


def test_a_quote_note_is_shown_from_its_rendering(client):
    ticket = file_ticket(category=IssueCategoryFactory(upon_request=True))
    services.ticket_set_quote(
        ticket=ticket, points=90, note="Covers:\n- **three** modules", actor=support_staff_user()
    )
    client.force_login(account_owner(ticket.account))

    quote = find(parse(client.get(f"/tickets/{ticket.pk}/").content), "section", id="quote")

    assert text(find(find(quote, "li"), "strong")) == "three"


def test_ticket_page_query_count_does_not_grow_with_long_messages(client):
    ticket = file_ticket(description="short")
    customer = account_owner(ticket.account)
    client.force_login(customer)
    url = f"/tickets/{ticket.pk}/"
    services.ticket_reply(ticket=ticket, author=customer, body="short")
    few = count_queries(client, url)
    for _ in range(5):
        services.ticket_reply(ticket=ticket, author=customer, body="[" * 10_000)

    assert count_queries(client, url) == few


# --- Re-rendering -----------------------------------------------------------------------------


def test_render_messages_renders_outdated_rows_in_batches_and_only_once():
    staff = support_staff_user()
    ticket = file_ticket(description="**one**")
    for body in ["_two_", "`three`", "four", "five"]:
        services.ticket_reply(ticket=ticket, author=staff, body=body)
    quoted = file_ticket(ticket.account, IssueCategoryFactory(upon_request=True))
    services.ticket_set_quote(ticket=quoted, points=5, note="**note**", actor=staff)
    current = list(Message.objects.order_by("pk").values_list("body_html", flat=True))
    Message.objects.exclude(body="four").update(body_html="", body_html_version=0)
    Quote.objects.update(note_html="<p>old</p>", note_html_version=RENDERER_VERSION - 1)

    out = io.StringIO()
    call_command("render_messages", "--batch-size", "2", stdout=out)

    assert "Rendered 5 messages and 1 quote notes" in out.getvalue()
    assert list(Message.objects.order_by("pk").values_list("body_html", flat=True)) == current
    assert set(Message.objects.values_list("body_html_version", flat=True)) == {RENDERER_VERSION}
    assert Quote.objects.get().note_html == "<p><strong>note</strong></p>\n"

    again = io.StringIO()
    call_command("render_messages", stdout=again)
    assert "Rendered 0 messages and 0 quote notes" in again.getvalue()


def test_render_messages_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("render_messages", "--batch-size", "0")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_renders_the_messages_and_quotes_written_before_it():
    staff = support_staff_user()
    ticket = file_ticket(description="**Filed** before")
    quoted = file_ticket(ticket.account, IssueCategoryFactory(upon_request=True))
    previous = [("tickets", "0006_ticket_ticket_staff_queue_order_idx")]
    executor = MigrationExecutor(connection)
    executor.migrate(previous)
    old = executor.loader.project_state(previous).apps
    OldMessage, OldQuote = old.get_model("tickets", "Message"), old.get_model("tickets", "Quote")
    written = {"created_at": ticket.created_at}
    OldMessage.objects.create(ticket_id=ticket.pk, author_id=staff.pk, body="_Old_", **written)
    OldMessage.objects.create(
        ticket_id=ticket.pk, author_id=staff.pk, body=nested_list(300), **written
    )
    OldQuote.objects.create(
        ticket_id=quoted.pk, points=9, note="- **old** note", created_by_id=staff.pk, **written
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    filed, older, deep = Message.objects.filter(ticket=ticket).order_by("pk")
    assert filed.body_html == "<p><strong>Filed</strong> before</p>\n"
    assert older.body_html == "<p><em>Old</em></p>\n"
    assert deep.body_html.startswith("<p>- item<br>")
    assert Quote.objects.get().note_html == "<ul>\n<li><strong>old</strong> note</li>\n</ul>\n"
    versions = Message.objects.values_list("body_html_version", flat=True)
    assert set(versions) == {RENDERER_VERSION}


@override_settings(HELPDESK_MESSAGE_MAX_CHARS=SIZE)
def test_the_longest_message_allowed_is_stored_and_shown(client):
    ticket = file_ticket(description="x")
    customer = account_owner(ticket.account)
    services.ticket_reply(ticket=ticket, author=customer, body="[" * SIZE)
    client.force_login(customer)

    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
