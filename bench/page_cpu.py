"""CPU per request of the customer pages, in process: Django's test client, `time.process_time()`.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/page_cpu.py [--requests 200] [--rounds 3]

The machine is shared and loaded, so wall time says little; the CPU this process spends per
request (view, ORM, templates, the client; not PostgreSQL's) is the figure that compares one
version of the code with another run in the same minutes. Data (in a test database made and
dropped here, under tests.settings): one customer account with 40 tickets, the measured ticket
with 12 public messages (two with attachments), 3 internal notes, a cost change and a
reconsideration request; a staff user (second factor given) for the admin ticket page and the
admin queue at 100 rows (120 tickets in all); the anonymous sign-in page as the floor.
Each page is warmed up, then requested --requests times per round; the figure is the median over
--rounds of the mean CPU per request.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def build():
    from catalog.models import IssueCategory
    from points.services import points_grant
    from tests.factories import AccountFactory, StaffUserFactory, UserFactory, account_owner
    from tickets import services

    user = UserFactory()
    account = AccountFactory(owner=user)
    staff = StaffUserFactory(is_superuser=True)
    points_grant(account=account, points=5000, reason="Bench", actor=None)
    incident = IssueCategory.objects.get(name="Incident solving")
    tickets = [
        services.ticket_file(
            account=account,
            filed_by=user,
            category=incident,
            subject=f"Problem number {n}",
            description=f"Since the upgrade, page {n} shows **nothing**.\n\n- a\n- b",
        )
        for n in range(40)
    ]
    ticket = tickets[0]
    for n in range(12):
        author = staff if n % 2 else user
        files = (
            [SimpleUploadedFile(f"log{n}.txt", b"Traceback\n", "text/plain")] if n in (3, 8) else []
        )
        services.ticket_reply(
            ticket=ticket,
            author=author,
            body=f"Message {n} with `code` and a [link](https://example.com).",
            attachments=files,
        )
        if n in (2, 5, 9):
            services.ticket_reply(ticket=ticket, author=staff, body=f"Internal {n}", internal=True)
    services.ticket_change_cost(
        ticket=ticket, points=ticket.hold.amount + 5, reason="Bigger", actor=staff
    )
    services.ticket_request_reconsideration(ticket=ticket, actor=user, message="Too much")
    other = AccountFactory()
    points_grant(account=other, points=5000, reason="Bench", actor=None)
    for n in range(80):
        services.ticket_file(
            account=other,
            filed_by=account_owner(other),
            category=incident,
            subject=f"Other {n}",
            description="x",
        )
    return user, staff, ticket


def measure(client, url, requests, cold=False):
    from django.core.cache import cache

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    spent = 0.0
    for _ in range(requests):
        if cold:
            cache.clear()
        start = time.process_time()
        client.get(url)
        spent += time.process_time() - start
    return spent / requests * 1000


def profile(client, url, requests):
    """The functions that cost most over `requests` requests, by time spent in them."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", default="", help="only the pages whose name contains this")
    parser.add_argument(
        "--profile", type=int, default=0, help="then a cProfile of this many requests per page"
    )
    parser.add_argument(
        "--cold-cache",
        action="store_true",
        help="empty the cache before each request: what a page costs when nothing is cached",
    )
    options = parser.parse_args()
    # The services' e-mails, sent by Celery in process while the data is made, log at INFO.
    logging.disable(logging.INFO)
    from django.contrib import admin

    from tickets.models import Ticket

    admin.site._registry[Ticket].list_per_page = 100
    # Not setup_test_environment(): its instrumented Template.render sends a signal per template
    # and the client copies every context, a cost production does not pay.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # A database of its own: a test run beside this one keeps its test_<name> database.
    database = connection.settings_dict
    database["TEST"]["NAME"] = f"bench_pages_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user, staff, ticket = build()
        from tests.second_factor import mark_second_factor_given

        customer, admin, anonymous = Client(), Client(), Client()
        customer.force_login(user)
        admin.force_login(staff)
        # Staff pages need the second factor: the session is marked as if the code was typed.
        mark_second_factor_given(admin, staff)
        pages = [
            # The floor every page pays: the middleware and the base layout, no account.
            ("sign-in page (anonymous)", anonymous, "/accounts/login/"),
            ("customer ticket page", customer, f"/tickets/{ticket.pk}/"),
            ("my tickets", customer, "/tickets/"),
            ("points page", customer, "/communication-center/support-points/"),
            ("admin ticket page", admin, f"/admin/tickets/ticket/{ticket.pk}/change/"),
            ("admin queue, 100 rows", admin, "/admin/tickets/ticket/"),
        ]
        for name, client, url in pages:
            if options.pages not in name:
                continue
            figures = [
                measure(client, url, options.requests, options.cold_cache)
                for _ in range(options.rounds)
            ]
            print(
                f"{name:24} {statistics.median(figures):6.2f} ms CPU/request "
                f"(rounds {', '.join(f'{f:.2f}' for f in figures)})"
            )
            if options.profile:
                profile(client, url, options.profile)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
