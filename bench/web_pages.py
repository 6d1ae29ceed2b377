"""Web pages under load: the customer and staff pages opened most, served by gunicorn, hit by wrk.

    .venv/bin/python bench/web_pages.py [--duration 15] [--clients 8] [--skip-data] [--keep]

1. Data, in the database hd_webbench (skipped with --skip-data, which copies the template
   hd_webbench_tpl that an earlier run kept with --keep): migrate, then 500 customer accounts
   (owner users sharing one password hash computed once) and 10,000 tickets with 5 messages each,
   made through the services with past times (`at=`), account by account in time order, over
   --jobs processes: purchases (points_purchase; some lots expired with points left, some
   expiring within 30 days, top-ups when a ticket needs more), a few staff grants, tickets
   (ticket_file), staff and customer replies (ticket_reply), assignment, cost changes, resolutions,
   software-bug returns before and after resolution, ratings. Notifications are switched off while
   generating. Then expire_points, tickets_close_quiet, check_ledger (must pass) and VACUUM ANALYZE.
2. Sessions made as django.contrib.auth.login makes them: --sessions customers (each viewing only
   their own pages and tickets) and the support agents (members of the "Support staff" group, or
   a superuser if there is no such group).
3. Queries per page, in this process (django.test.Client + CaptureQueriesContext) on a sample of
   each page: status 200 and the expected text, query count, time alone. --profile N adds a
   cProfile of N requests per page: SQL time, template time, the functions that cost most.
4. collectstatic into a temporary STATIC_ROOT; gunicorn (2 workers, sync then gthread) on a free
   port with DEBUG off, the cache and sessions on Redis as in production (BENCH_REDIS_URL, default
   redis://127.0.0.1:6379/9, emptied before each server starts; staff sessions carry their second
   factor); for each page: a sample checked over HTTP (200 + expected text), every (session,
   path) pair requested once by 8 clients (the priming pass; --cold-cache skips it), wrk with
   bench/web_pages.lua (rotates over the (session, path) pairs, counts every non-200, one
   connection per request) for a --warmup run, then the measured --duration run: req/s, p50,
   p99, non-200, CPU per request of the workers, of their PostgreSQL backends and of wrk.
   The ticket queue is measured at 100 rows and at the admin's own page size: gunicorn serves
   wsgi_application() below, which sets the page size from a query parameter.
5. --rounds N repeats step 4; the summary gives medians, the ceiling the CPU per request allows
   on this machine, and each target met or missed.

The databases are dropped at the end; --keep keeps both (a later --skip-data run reuses them).
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import logging
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import common

DB = "hd_webbench"
TEMPLATE = "hd_webbench_tpl"
SEED = 20240601
PASSWORD = "bench-password-not-a-secret"
HISTORY_DAYS = 900
PACKAGES = [100, 250, 500, 1000]
LUA = Path(__file__).with_suffix(".lua")
VENV_BIN = Path(sys.executable).parent


@dataclass
class Page:
    name: str
    target_rps: float | None  # None: measured for information, no target
    target_p99_ms: float | None
    # (session key, path, texts the page must contain)
    pairs: list[tuple[str, str, list[str]]] = field(default_factory=list)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per page")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per page")
    parser.add_argument(
        "--cold-cache",
        action="store_true",
        help="skip the priming pass: measure with only what the warm-up cached",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections (wrk -c)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="reuse connections (default: one per request, spread over the workers by accept())",
    )
    parser.add_argument(
        "--worker-classes", default="sync,gthread", help="gunicorn worker classes to run, in turn"
    )
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every page this many times (medians)"
    )
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=200, help="logged-in customers")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="generator processes")
    parser.add_argument("--skip-data", action="store_true", help=f"copy {TEMPLATE} instead")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile N requests of each page in process (cProfile) and print where time goes",
    )
    return parser.parse_args()


# The cache and sessions on Redis, as in production (docker-compose.yml): one cache shared by the
# workers. A database of Redis' own for the bench, emptied when a server starts.
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def environment(static_root: str) -> dict[str, str]:
    """Settings of every process of the benchmark: bench database, cache and sessions on Redis,
    DEBUG off, no e-mail."""
    env = common.bench_env(DB)
    env.update(
        {
            "HELPDESK_ENV_FILE": "",
            "CACHE_URL": BENCH_REDIS.replace("redis://", "rediscache://", 1),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": static_root,
            "EMAIL_URL": "dummymail://",
            "CONN_MAX_AGE": "60",
        }
    )
    return env


# --- Realistic text ---------------------------------------------------------------------------

PROBLEMS = [
    "Checkout page shows a blank screen",
    "Payment gateway declines every card",
    "Product images are not displayed",
    "Search returns no results",
    "Order confirmation e-mails are not sent",
    "Admin area is very slow",
    "Shipping rates are calculated wrongly",
    "Customers cannot log in",
    "Cron job fails every night",
    "Discount coupons are not applied",
    "Invoice PDF has broken characters",
    "Category pages return 500 errors",
    "SSL certificate warning in the browser",
    "Import of products stops halfway",
    "Taxes are added twice",
    "Mobile layout is broken",
    "Sitemap is not updated",
    "Stock levels are not synchronised",
]
CONTEXTS = [
    "after the upgrade to 4.7",
    "since yesterday",
    "on the live store",
    "after moving to a new server",
    "for customers in Germany",
    "only in Safari",
    "after installing the SEO add-on",
    "when the cart has more than 10 items",
    "with PHP 8.2",
    "after changing the theme",
    "for guest checkout",
    "in the test environment too",
]
SENTENCES = [
    "We noticed the problem this morning when several customers called us.",
    "Nothing was changed on our side except the regular security updates.",
    "The error log shows a fatal error in the payment module.",
    "I have attached a screenshot of what the customers see.",
    "Clearing the cache did not help, and neither did restarting the web server.",
    "The problem appears only on the live store, the staging copy works fine.",
    "Could you please have a look at it as soon as possible?",
    "Thank you for the quick answer, it works now for most of the orders.",
    "I checked the settings you mentioned and they look correct to me.",
    "The hosting company says the server is fine and the load is normal.",
    "We are losing orders because of this, so it is quite urgent for us.",
    "Please find the FTP access details in the ticket as requested.",
    "I tried again with a different browser and got the same result.",
    "Here are the steps to reproduce it on a fresh installation.",
    "We have about 4,000 products and 15 categories in the store.",
    "Our developer changed the template last week but only the header.",
    "The module was installed from the marketplace two months ago.",
    "Thank you, we will test it tonight and let you know the result.",
]
STAFF_SENTENCES = [
    "Thank you for contacting us.",
    "I have looked into the problem on your server.",
    "The cause is an outdated file left over from the previous version.",
    "I replaced it with the correct one and cleared the template cache.",
    "Please check the checkout again and let us know whether it works now.",
    "The error comes from a third-party module that is not compatible with this version.",
    "I have disabled the module for now; the store works without it.",
    "Could you please send us the exact time when the error happened?",
    "We need access to the admin area to check the settings.",
    "This is a known problem and it is fixed in the next release.",
    "I applied the patch to your installation and tested an order myself.",
    "The hosting configuration limits the memory available to PHP.",
    "Please ask your hosting provider to raise memory_limit to 512M.",
    "Let us know if there is anything else we can do for you.",
]
LOG_LINES = [
    "PHP Fatal error:  Uncaught Error: Call to undefined method Cart::getTotals()",
    "[error] 1234#0: *56 upstream timed out (110: Connection timed out)",
    "SQLSTATE[HY000]: General error: 2006 MySQL server has gone away",
    "Warning: include(/var/www/store/modules/Payment/init.php): failed to open stream",
]


def message_body(rng: random.Random, *, staff: bool) -> str:
    pool = STAFF_SENTENCES if staff else SENTENCES
    paragraphs = [" ".join(rng.sample(pool, rng.randint(2, 4))) for _ in range(rng.randint(1, 3))]
    if not staff and rng.random() < 0.2:
        paragraphs.insert(1, "```\n" + rng.choice(LOG_LINES) + "\n```")
    if staff and rng.random() < 0.2:
        paragraphs.insert(1, "\n".join(f"- {s}" for s in rng.sample(STAFF_SENTENCES, 3)))
    return "\n\n".join(paragraphs)


# --- Data -------------------------------------------------------------------------------------

# Set in the parent before the generator processes fork (inherited).
GEN: dict = {}


def make_people(args) -> list[tuple[int, int, int]]:
    """Users, accounts, memberships (bulk) and agents. Returns [(account, owner, tickets)]."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Account, Membership, MembershipRole
    from helpdesk.models import User

    rng = random.Random(SEED)
    password = make_password(PASSWORD)  # once: hashing is slow on purpose
    now = timezone.now()
    first_names = ["Alex", "Sam", "Kim", "Maria", "John", "Olga", "Wei", "Priya", "Tom", "Lena"]
    last_names = ["Smith", "Ivanova", "Chen", "Garcia", "Müller", "Brown", "Kumar", "Rossi"]
    owners = User.objects.bulk_create(
        User(
            email=f"customer{i}@bench.example.com",
            password=password,
            first_name=rng.choice(first_names),
            last_name=rng.choice(last_names),
            date_joined=now - timedelta(days=HISTORY_DAYS + 30),
        )
        for i in range(args.accounts)
    )
    accounts = Account.objects.bulk_create(
        Account(name=f"{rng.choice(last_names)} Store {i} Ltd") for i in range(args.accounts)
    )
    Membership.objects.bulk_create(
        Membership(account=a, user=u, role=MembershipRole.OWNER)
        for a, u in zip(accounts, owners, strict=True)
    )
    agents = User.objects.bulk_create(
        User(
            email=f"agent{i}@helpdesk.example.com",
            password=password,
            first_name=rng.choice(first_names),
            last_name=f"Agent{i}",
            is_staff=True,
        )
        for i in range(8)
    )
    group = Group.objects.filter(name="Support staff").first()
    if group is not None:
        group.user_set.add(*agents)
    else:
        User.objects.filter(pk__in=[a.pk for a in agents]).update(is_superuser=True)
    # Tickets per account: a long tail (a few busy shops, many quiet ones), at least one each.
    weights = [rng.lognormvariate(0, 0.8) for _ in accounts]
    scale = (args.tickets - len(accounts)) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in rng.sample(range(len(accounts)), args.tickets - sum(counts)):
        counts[i] += 1
    return [(a.pk, u.pk, n) for a, u, n in zip(accounts, owners, counts, strict=True)]


def _generator_init() -> None:
    """In each generator process: fresh connections."""
    from django.db import connections

    connections.close_all()


def account_history_quietly(task: tuple[int, int, int]) -> dict[str, int]:
    """`account_history` queueing no notification (the history is made up)."""
    from notifications.outbox import notifications_suppressed

    with notifications_suppressed():
        return account_history(task)


def account_history(task: tuple[int, int, int]) -> dict[str, int]:
    """One account's history, through the services, in time order."""
    from accounts.models import Account
    from catalog.models import PricingKind
    from helpdesk.models import User
    from points import services as ledger
    from points.selectors import points_available
    from tickets import services as desk
    from tickets.services import CostOutOfBounds, TicketError

    account_id, owner_id, ticket_count = task
    rng = random.Random(SEED * 1_000_003 + account_id)
    now: datetime = GEN["now"]
    categories = GEN["categories"]
    weights = GEN["category_weights"]
    account = Account.objects.get(pk=account_id)
    owner = User.objects.get(pk=owner_id)
    agents = list(User.objects.filter(pk__in=GEN["agent_ids"]).order_by("id"))
    agent = rng.choice(agents)
    hour = timedelta(hours=1)
    stats = {"purchases": 0, "tickets": 0, "messages": 0, "resolved": 0, "bugs": 0, "costs": 0}

    events: list[tuple[datetime, int, tuple]] = []
    start = now - timedelta(days=HISTORY_DAYS) + timedelta(days=rng.uniform(0, 60))
    events.append((start, 0, ("purchase", rng.choice([500, 1000]))))
    if rng.random() < 0.35:  # a lot that expires within the next 30 days
        events.append((now - timedelta(days=rng.uniform(701, 728)), 0, ("purchase", 1000)))
    if rng.random() < 0.1:
        events.append((start + (now - start) * rng.random(), 0, ("grant", rng.choice([20, 50]))))
    filed = sorted(
        start + hour + (now - 3 * hour - start - hour) * rng.random() for _ in range(ticket_count)
    )
    for index, at in enumerate(filed):
        category = rng.choices(categories, weights)[0]
        urgent = rng.random() < 0.05
        events.append((at, 1, ("file", index, category, urgent)))
        gaps = [rng.uniform(0.5, 20), rng.uniform(1, 30), rng.uniform(0.5, 20), rng.uniform(1, 30)]
        room = (now - at) / hour * 0.8
        squeeze = min(1.0, room / sum(gaps))
        t = at
        for k, gap in enumerate(gaps):
            t += gap * squeeze * hour
            events.append((t, 2, ("reply", index, k % 2 == 0)))
        outcome_at = t + rng.uniform(2, 72) * hour
        roll = rng.random()
        if outcome_at > now - hour or roll < 0.03:
            continue  # still being worked on
        price = (category.capture_points or 0) * (2 if urgent else 1)
        if price and rng.random() < 0.15:
            up = category.pricing_kind != PricingKind.FIXED or rng.random() < 0.6
            new = price + rng.choice([10, 20, 40]) if up else price // 2
            events.append((t + (outcome_at - t) / 2, 3, ("cost", index, new)))
        if roll < 0.09:
            events.append((outcome_at, 4, ("bug", index)))
            continue
        events.append((outcome_at, 4, ("resolve", index)))
        later = outcome_at + timedelta(days=rng.uniform(1, 10))
        if roll < 0.13 and later < now:
            events.append((later, 5, ("bug", index)))
        elif rng.random() < 0.3 and outcome_at + 2 * hour < now:
            events.append((outcome_at + rng.uniform(1, 48) * hour, 5, ("rate", index)))
    events.sort(key=lambda event: (event[0], event[1]))

    tickets = {}
    purchases = 0

    def buy(points: int, at: datetime) -> None:
        nonlocal purchases
        purchases += 1
        ledger.points_purchase(
            account=account,
            points=points,
            payment_reference=f"bench-{account_id}-{purchases}",
            actor=owner,
            at=at,
        )
        stats["purchases"] += 1

    def make_sure_of(points: int, at: datetime) -> None:
        missing = points - points_available(account=account, at=at)
        if missing > 0:
            buy(next((p for p in PACKAGES if p >= missing), missing), at - timedelta(minutes=10))

    for at, _order, event in events:
        kind = event[0]
        if kind == "purchase":
            buy(event[1], at)
        elif kind == "grant":
            ledger.points_grant(
                account=account,
                points=event[1],
                reason="Goodwill credit for a late first response",
                actor=agent,
                at=at,
            )
        elif kind == "file":
            _kind, index, category, urgent = event
            make_sure_of((category.capture_points or 0) * (2 if urgent else 1), at)
            tickets[index] = desk.ticket_file(
                account=account,
                filed_by=owner,
                category=category,
                subject=f"{rng.choice(PROBLEMS)} {rng.choice(CONTEXTS)}",
                description=message_body(rng, staff=False),
                is_urgent=urgent,
                at=at,
            )
            stats["tickets"] += 1
            stats["messages"] += 1
        elif kind == "reply":
            _kind, index, from_staff = event
            ticket = tickets[index]
            if from_staff and ticket.assignee_id is None:
                ticket = tickets[index] = desk.ticket_assign(
                    ticket=ticket, assignee=agent, actor=agent
                )
            desk.ticket_reply(
                ticket=ticket,
                author=agent if from_staff else owner,
                body=message_body(rng, staff=from_staff),
                at=at,
            )
            stats["messages"] += 1
        elif kind == "cost":
            _kind, index, points = event
            ticket = tickets[index]
            make_sure_of(points - ticket.hold.amount, at)
            try:
                desk.ticket_change_cost(
                    ticket=ticket,
                    points=points,
                    reason="More investigation was needed than the category covers"
                    if points > ticket.hold.amount
                    else "Lowered: the fix turned out simpler than expected",
                    actor=agent,
                    at=at,
                )
                stats["costs"] += 1
            except (CostOutOfBounds, TicketError):
                pass
        elif kind == "resolve":
            desk.ticket_resolve(
                ticket=tickets[event[1]], actor=agent, reason="Fixed and confirmed", at=at
            )
            stats["resolved"] += 1
        elif kind == "bug":
            desk.ticket_mark_software_bug(
                ticket=tickets[event[1]],
                actor=agent,
                reason="A bug in our software: the points are returned",
                at=at,
            )
            stats["bugs"] += 1
        elif kind == "rate":
            desk.ticket_rate(
                ticket=tickets[event[1]],
                actor=owner,
                score=rng.choice([5, 5, 5, 4, 4, 3, 1]),
                comment=rng.choice(["", "Quick and helpful, thanks!", "Took a while."]),
                at=at,
            )
    return stats


def generate(args) -> None:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from catalog.models import IssueCategory
    from helpdesk.models import User
    from tickets.services import tickets_close_quiet

    print(f"\nData: {DB} — migrate, {args.accounts} accounts, {args.tickets:,} tickets ...")
    started = time.perf_counter()
    common.create_database(DB)
    call_command("migrate", verbosity=0, interactive=False)
    tasks = make_people(args)
    categories = [c for c in IssueCategory.objects.active() if c.capture_points is not None]
    GEN.update(
        now=timezone.now(),
        categories=categories,
        # Cheap consultations are common, installations and optimisations rarer.
        category_weights=[1 / (1 + c.capture_points / 25) for c in categories],
        agent_ids=list(User.objects.filter(is_staff=True).values_list("id", flat=True)),
    )
    connections.close_all()
    totals: dict[str, int] = {}
    with mp.get_context("fork").Pool(args.jobs, initializer=_generator_init) as pool:
        for done, stats in enumerate(pool.imap_unordered(account_history_quietly, tasks), start=1):
            for key, value in stats.items():
                totals[key] = totals.get(key, 0) + value
            if done % 50 == 0 or done == len(tasks):
                print(
                    f"  {done}/{len(tasks)} accounts, {totals['tickets']:,} tickets, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    print("  " + ", ".join(f"{key} {value:,}" for key, value in totals.items()))
    call_command("expire_points", verbosity=0)
    closed = tickets_close_quiet()
    print(f"  expire_points done; {closed:,} quiet resolved tickets closed")
    call_command("check_ledger", verbosity=0)  # exits non-zero on any violation
    print("  check_ledger: consistent")
    connections.close_all()
    with common.connect(DB) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  generated in {time.perf_counter() - started:.0f} s")


def describe_data() -> dict[str, str]:
    with common.connect(DB) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in [
                "accounts_account",
                "helpdesk_user",
                "tickets_ticket",
                "tickets_message",
                "points_lot",
                "points_hold",
                "points_entry",
                "tickets_costchange",
                "tickets_statuschange",
            ]
        }
        expired = conn.execute(
            "SELECT count(*) FROM points_lot WHERE expired_at IS NOT NULL"
        ).fetchone()[0]
        soon = conn.execute(
            "SELECT count(*) FROM points_lot WHERE remaining > 0 AND expires_at > now() "
            "AND expires_at <= now() + interval '30 days'"
        ).fetchone()[0]
        statuses = conn.execute(
            "SELECT status, count(*) FROM tickets_ticket GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = size.fetchone()[0]
    data = {name: f"{value:,}" for name, value in counts.items()}
    data["lots expired (recorded)"] = f"{expired:,}"
    data["lots with points expiring within 30 days"] = f"{soon:,}"
    data["ticket statuses"] = ", ".join(f"{s} {n:,}" for s, n in statuses)
    data["database size"] = size
    return data


# --- The queue's page size ---------------------------------------------------------------------

# The admin has no URL parameter for its page size; the benchmark adds one, in the WSGI entry
# point below (gunicorn) and in count_queries (in process), and strips it before Django sees it.
PAGE_SIZE_PARAMETER = "bench_rows"


def take_page_size(query_string: str) -> tuple[str, int | None]:
    """(the query string without PAGE_SIZE_PARAMETER, its value or None)."""
    kept, size = [], None
    for part in query_string.split("&") if query_string else []:
        name, _sep, value = part.partition("=")
        if name == PAGE_SIZE_PARAMETER:
            size = int(value)
        else:
            kept.append(part)
    return "&".join(kept), size


def set_queue_page_size(size: int | None) -> None:
    from django.contrib import admin

    from tickets.models import Ticket

    ticket_admin = admin.site._registry[Ticket]
    if not hasattr(ticket_admin, "bench_default_page_size"):
        ticket_admin.bench_default_page_size = ticket_admin.list_per_page
    ticket_admin.list_per_page = size or ticket_admin.bench_default_page_size


def wsgi_application():
    """gunicorn's entry point (`web_pages:wsgi_application()`): the HelpDesk's WSGI application,
    taking the queue's page size from PAGE_SIZE_PARAMETER. A run measures one page at a time, so
    every request in flight asks for the same size."""
    from helpdesk.wsgi import application

    def bench_application(environ, start_response):
        environ["QUERY_STRING"], size = take_page_size(environ.get("QUERY_STRING", ""))
        if "/admin/tickets/ticket/" in environ.get("PATH_INFO", ""):
            set_queue_page_size(size)
        return application(environ, start_response)

    return bench_application


# --- Sessions and the pages -------------------------------------------------------------------


def login_session(user) -> str:
    """A database session as django.contrib.auth.login leaves it; for staff, as it is once their
    second factor is given (django-otp's login: the device's id in the session)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "accounts.backends.AccountUserBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if user.is_staff:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": "Bench authenticator"}
        )
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


def make_pages(args) -> list[Page]:
    from django.contrib import admin

    from accounts.models import Membership, MembershipRole
    from helpdesk.models import User
    from tickets.models import Ticket

    rng = random.Random(SEED + 1)
    owners = list(
        Membership.objects.filter(role=MembershipRole.OWNER)
        .select_related("user", "account")
        .order_by("account_id")
    )
    chosen = rng.sample(owners, min(args.sessions, len(owners)))
    by_account: dict[int, list[tuple[int, str]]] = {}
    for ticket_id, account_id, subject in Ticket.objects.order_by(
        "-last_activity_at", "-id"
    ).values_list("id", "account_id", "subject"):
        by_account.setdefault(account_id, []).append((ticket_id, subject))

    # p99 < 100 ms is asked of the customer pages. With 8 clients each waiting for its answer,
    # mean latency = 8 / throughput (Little's law): the admin targets (32 and 66 req/s) mean
    # 250 and 120 ms on average, so no p99 bound is applied to them.
    detail = Page("customer ticket page", 360, 100)
    listing = Page("my tickets", 130, 100)
    points = Page("points page", 130, 100)
    for membership in chosen:
        key = login_session(membership.user)
        own = by_account.get(membership.account_id, [])
        for ticket_id, subject in rng.sample(own, min(10, len(own))):
            detail.pairs.append((key, f"/tickets/{ticket_id}/", [html.escape(subject)]))
        newest = [f'href="/tickets/{own[0][0]}/"'] if own else []
        listing.pairs.append((key, "/tickets/", newest))
        points.pairs.append(
            (
                key,
                "/communication-center/support-points/",
                [f"Account: {html.escape(membership.account.name)}"],
            )
        )

    agents = list(User.objects.filter(is_staff=True).order_by("id"))
    agent_keys = [login_session(agent) for agent in agents]
    # The queue's first page with the default filters, at 100 rows (the target's page size, set
    # through PAGE_SIZE_PARAMETER) and at the admin's own list_per_page if that differs.
    ticket_admin = admin.site._registry.get(Ticket)
    per_page = getattr(ticket_admin, "list_per_page", None)
    changelists = [Page("admin ticket changelist (100 rows)", 32, None)]
    if per_page not in (None, 100):
        changelists.append(Page(f"admin ticket changelist ({per_page} rows)", None, None))
    change = Page("admin ticket page", 66, None)
    for key in agent_keys:
        changelists[0].pairs.append(
            (key, f"/admin/tickets/ticket/?{PAGE_SIZE_PARAMETER}=100", ['id="changelist"'])
        )
        if len(changelists) > 1:
            changelists[1].pairs.append((key, "/admin/tickets/ticket/", ['id="changelist"']))
    sample = rng.sample(
        list(Ticket.objects.values_list("id", "subject")), min(2000, Ticket.objects.count())
    )
    for i, (ticket_id, subject) in enumerate(sample):
        change.pairs.append(
            (
                agent_keys[i % len(agent_keys)],
                f"/admin/tickets/ticket/{ticket_id}/change/",
                [html.escape(subject)],
            )
        )
    pages = [detail, listing, points, *changelists, change]
    print(
        f"\nSessions: {len(chosen)} customers, {len(agents)} support agents; "
        f"admin list_per_page: {per_page if ticket_admin else 'no Ticket admin registered'}"
    )
    return pages


def missing_texts(body: str, texts: list[str]) -> list[str]:
    return [text for text in texts if text not in body]


def in_process_path(path: str) -> str:
    """The path as Django should see it, with the queue's page size applied (as the WSGI entry
    point does for gunicorn)."""
    base, _sep, query = path.partition("?")
    query, size = take_page_size(query)
    if base.startswith("/admin/tickets/ticket/"):
        set_queue_page_size(size)
    return f"{base}?{query}" if query else base


def count_queries(pages: list[Page], sample: int = 12, repeat: int = 5) -> dict[str, dict]:
    """Queries and single-request time per page, in this process (no server, no load)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(SEED + 2)
    results = {}
    # Errors are reported below, once per page; Django's request log would repeat each of them.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    print("\nQueries per page (django.test.Client, in process, one request at a time):")
    for page in pages:
        counts, times, cpu_times, problems, repeated = [], [], [], [], {}
        for key, path, texts in rng.sample(page.pairs, min(sample, len(page.pairs))):
            client = Client(HTTP_HOST="127.0.0.1")
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            path = in_process_path(path)
            try:
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(path)
            except Exception as error:  # a page still being written: report, don't stop
                problems.append(f"{path}: {type(error).__name__}: {error}")
                continue
            if response.status_code != 200:
                problems.append(f"{path}: status {response.status_code}")
                continue
            missing = missing_texts(response.content.decode(), texts)
            if missing:
                problems.append(f"{path}: missing {missing}")
            counts.append(len(queries))
            for query in queries.captured_queries:
                shape = re.sub(r"\b\d+\b", "N", query["sql"])
                repeated[shape] = repeated.get(shape, 0) + 1
            for _ in range(repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                cpu_times.append((time.process_time() - start_cpu) * 1000)
        result = {
            "queries_min": min(counts) if counts else None,
            "queries_max": max(counts) if counts else None,
            "queries_median": statistics.median(counts) if counts else None,
            "alone_ms_median": statistics.median(times) if times else None,
            # CPU of this process only (Python, templates, the client side of queries): what a
            # worker spends per request, less disturbed by other load than wall time.
            "alone_cpu_ms_median": statistics.median(cpu_times) if cpu_times else None,
            "problems": problems,
            "most_repeated": sorted(repeated.items(), key=lambda kv: -kv[1])[:3],
        }
        results[page.name] = result
        if counts:
            print(
                f"  {page.name:26} queries {result['queries_min']}–{result['queries_max']} "
                f"(median {result['queries_median']}), alone {result['alone_ms_median']:.1f} ms "
                f"wall, {result['alone_cpu_ms_median']:.1f} ms CPU"
            )
        for problem in problems[:5]:
            print(f"    PROBLEM {problem}")
    return results


def cumulative(stats, path_end: str, name: str) -> float:
    """Seconds spent in (and under) the functions `name` of files ending with `path_end`."""
    return sum(
        value[3]
        for (filename, _line, function), value in stats.stats.items()
        if filename.endswith(path_end) and function == name
    )


def profile_pages(pages: list[Page], requests: int) -> None:
    """Where a request's time goes, in this process: SQL, template rendering, the rest."""
    import cProfile
    import pstats

    from django.conf import settings
    from django.test import Client

    rng = random.Random(SEED + 4)
    print(f"\nProfile ({requests} requests per page, in process, cProfile):")
    for page in pages:
        sample = [rng.choice(page.pairs) for _ in range(requests)]
        clients = []
        for key, path, _texts in sample:
            client = Client(HTTP_HOST="127.0.0.1")
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            path = in_process_path(path)
            client.get(path)  # warm
            clients.append((client, path))
        # CPU time, not wall time: waiting for PostgreSQL or for a core doesn't count.
        profiler = cProfile.Profile(time.process_time)
        started = time.perf_counter()
        profiler.enable()
        for client, path in clients:
            client.get(path)
        profiler.disable()
        wall = (time.perf_counter() - started) * 1000 / requests
        stats = pstats.Stats(profiler)
        per_request = {
            "total": sum(value[2] for value in stats.stats.values()),
            "SQL sent and read (psycopg)": cumulative(
                stats, "django/db/backends/utils.py", "_execute"
            ),
            "ORM: compile + execute": cumulative(
                stats, "django/db/models/sql/compiler.py", "execute_sql"
            ),
            "template render (incl. lazy queries)": cumulative(
                stats, "django/template/backends/django.py", "render"
            ),
        }
        print(
            f"  {page.name}: {wall:.1f} ms/request wall while profiled; CPU per request: "
            + ", ".join(
                f"{name} {value * 1000 / requests:.1f} ms" for name, value in per_request.items()
            )
        )
        by_own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
        for (filename, line, function), (_cc, calls, own, cum, _callers) in by_own:
            where = re.sub(r".*/site-packages/", "", filename).replace(str(common.ROOT) + "/", "")
            print(
                f"    {own * 1000 / requests:6.2f} ms own {cum * 1000 / requests:7.2f} ms cum "
                f"{calls / requests:7.1f} calls  {where}:{line} {function}"
            )


# --- Server and load --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, session: str | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Cookie": f"sessionid={session}"} if session else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def prime(port: int, page: Page) -> None:
    """Every (session, path) pair requested once, by as many clients as the measurement: the
    cache is then as warm as on a site whose customers come back to their pages (each server
    starts with an empty one). --cold-cache leaves this out."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda pair: http_get(port, pair[1], pair[0]), page.pairs))


def flush_bench_cache() -> None:
    """Empty the bench's Redis database: no round starts with what an earlier one cached."""
    import redis

    redis.Redis.from_url(BENCH_REDIS).flushdb()


def start_server(env: dict[str, str], worker_class: str, args, log: Path):
    flush_bench_cache()
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        f"--pythonpath={Path(__file__).parent}",
        "web_pages:wsgi_application()",
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        f"--worker-class={worker_class}",
        "--timeout=60",
        "--log-level=warning",
        f"--error-logfile={log}",
    ]
    if worker_class == "gthread":
        command.append(f"--threads={args.threads}")
    server = subprocess.Popen(command, env={**os.environ, **env}, cwd=common.ROOT)
    wait_until_serving(server, port, "/healthz", log)
    return server, port, " ".join(command[1:])


def ensure_wrk() -> None:
    """wrk on the PATH: installed from Debian's packages when missing and run as root."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("wrk is needed: sudo apt-get install -y wrk")
    print("Installing wrk (apt-get install wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)


def wait_until_serving(server, port: int, path: str, log: Path) -> None:
    """Until `path` answers 200 (60 s at most; the server is stopped if it never does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http_get(port, path)[0] == 200:
                return
        except OSError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer {path} within 60 s")


def stop_server(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_wrk(port: int, pairs_file: Path, seconds: int, args) -> dict:
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.clients}",
        f"-d{seconds}s",
        "--timeout=10s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(pairs_file),
    ]
    if args.keep_alive:
        command.append("keep-alive")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


class CpuSampler(threading.Thread):
    """CPU seconds used during a run by the gunicorn workers and by the PostgreSQL backends of
    the bench database, sampled twice a second: backends come and go (CONN_MAX_AGE), so a
    backend first seen during the run counts from zero and one that ends counts until its last
    sample."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.stopping = threading.Event()
        self.sample(initial=True)

    def sample(self, *, initial: bool = False) -> None:
        import psutil

        workers = [child.pid for child in psutil.Process(self.master_pid).children()]
        for kind, pids in (("worker", workers), ("postgres", backend_pids())):
            for pid in pids:
                try:
                    times = psutil.Process(pid).cpu_times()
                except psutil.NoSuchProcess:
                    continue
                self.first.setdefault((kind, pid), times.user + times.system if initial else 0.0)
                self.last[(kind, pid)] = times.user + times.system

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.join()
        self.sample()
        used = {"worker": 0.0, "postgres": 0.0}
        for key, last in self.last.items():
            used[key[0]] += last - self.first[key]
        # How evenly the workers shared the work (with keep-alive, each connection stays on
        # the worker that accepted it).
        self.worker_shares = sorted(
            (last - self.first[key] for key, last in self.last.items() if key[0] == "worker"),
            reverse=True,
        )
        return used


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(x) for x in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def backend_pids() -> list[int]:
    """The PostgreSQL backends serving the bench database (the workers' persistent connections;
    other databases on the server, e.g. other people's tests, don't count)."""
    with common.connect() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB],
        ).fetchall()
    return [pid for (pid,) in rows]


def measure(server, port: int, page: Page, pairs_file: Path, args) -> dict:

    rng = random.Random(SEED + 3)
    problems = []
    for key, path, texts in rng.sample(page.pairs, min(40, len(page.pairs))):
        status, body = http_get(port, path, key)
        if status != 200:
            problems.append(f"{path}: HTTP {status}")
        elif missing_texts(body, texts):
            problems.append(f"{path}: missing {missing_texts(body, texts)}")
    if problems:
        print(f"  {page.name:26} NOT MEASURED: {problems[:3]}")
        return {"page": page.name, "problems": problems}
    if not args.cold_cache:
        prime(port, page)
    run_wrk(port, pairs_file, args.warmup, args)
    sampler = CpuSampler(server.pid)
    sampler.start()
    busy_before, total_before = machine_busy()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(port, pairs_file, args.duration, args)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = machine_busy()
    used = sampler.stop()
    wrk_used = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    requests = max(result["requests"], 1)
    result.update(
        page=page.name,
        target_rps=page.target_rps,
        target_p99_ms=page.target_p99_ms,
        worker_cpu_ms_per_request=used["worker"] * 1000 / requests,
        postgres_cpu_ms_per_request=used["postgres"] * 1000 / requests,
        wrk_cpu_ms_per_request=wrk_used * 1000 / requests,
        worker_cpu_shares_pct=[
            round(100 * share / max(used["worker"], 1e-9)) for share in sampler.worker_shares
        ],
        machine_busy_pct=100 * (busy_after - busy_before) / max(total_after - total_before, 1),
        problems=[],
    )
    result["met"] = (
        None
        if page.target_rps is None
        else result["rps"] >= page.target_rps
        and (page.target_p99_ms is None or result["p99_us"] < page.target_p99_ms * 1000)
        and result["non_200"] == 0
    )
    verdict = {None: "no target", True: "MET", False: "MISSED"}[result["met"]]
    # The share of the machine's CPU this run used itself; the rest of "busy" is someone else.
    ours = (used["worker"] + used["postgres"] + wrk_used) / (args.duration * (os.cpu_count() or 1))
    ours *= 100
    result["this_run_busy_pct"] = ours
    print(
        f"  {page.name:26} {result['rps']:7.1f} req/s  p50 {result['p50_us'] / 1000:6.1f} ms  "
        f"p99 {result['p99_us'] / 1000:6.1f} ms  non-200 {result['non_200']}  "
        f"worker CPU {result['worker_cpu_ms_per_request']:.1f} ms/req, "
        f"postgres {result['postgres_cpu_ms_per_request']:.1f} ms/req, "
        f"wrk {result['wrk_cpu_ms_per_request']:.1f} ms/req, "
        f"worker shares {'/'.join(map(str, result['worker_cpu_shares_pct']))}%, "
        f"machine busy {result['machine_busy_pct']:.0f}% (this run {ours:.0f}%)  "
        f"target {page.target_rps or '—'}: {verdict}",
        flush=True,
    )
    return result


def summarize(runs: list[dict], queries: dict[str, dict]) -> list[dict]:
    """One row per (page, worker class): medians over the rounds, checked against the targets."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["page"], run["worker_class"]), []).append(run)
    rows = []
    cores = os.cpu_count() or 1
    for (page, worker_class), group in groups.items():
        q = queries[page]
        row = {
            "page": page,
            "worker_class": worker_class,
            "rounds": len(group),
            "queries": (
                f"{q['queries_min']}"
                if q["queries_min"] == q["queries_max"]
                else f"{q['queries_min']}–{q['queries_max']}"
            ),
            "problems": [p for run in group for p in run.get("problems", [])],
            "met": False,
        }
        measured = [run for run in group if not run.get("problems")]
        if measured:

            def median(key, measured=measured):
                return statistics.median(run[key] for run in measured)

            cpu = median("worker_cpu_ms_per_request") + median("postgres_cpu_ms_per_request")
            row.update(
                rps=median("rps"),
                rps_min=min(run["rps"] for run in measured),
                rps_max=max(run["rps"] for run in measured),
                p50_ms=median("p50_us") / 1000,
                p99_ms=median("p99_us") / 1000,
                non_200=sum(run["non_200"] for run in measured),
                worker_cpu_ms=median("worker_cpu_ms_per_request"),
                postgres_cpu_ms=median("postgres_cpu_ms_per_request"),
                wrk_cpu_ms=median("wrk_cpu_ms_per_request"),
                # What the page could do with the machine's cores to itself (workers and
                # PostgreSQL CPU-bound, wrk's own share included).
                ceiling_rps=cores * 1000 / (cpu + median("wrk_cpu_ms_per_request")),
                machine_busy_pct=median("machine_busy_pct"),
                this_run_busy_pct=median("this_run_busy_pct"),
                target_rps=measured[0]["target_rps"],
                target_p99_ms=measured[0]["target_p99_ms"],
            )
            # The round other load disturbed least: the highest share of the machine's CPU
            # used by this benchmark itself.
            calm = max(measured, key=lambda run: run["this_run_busy_pct"])
            row.update(
                calm_round=calm["round"],
                calm_rps=calm["rps"],
                calm_p50_ms=calm["p50_us"] / 1000,
                calm_p99_ms=calm["p99_us"] / 1000,
                calm_share_pct=calm["this_run_busy_pct"],
            )
            row["met"] = (
                None
                if row["target_rps"] is None
                else row["rps"] >= row["target_rps"]
                and (row["target_p99_ms"] is None or row["p99_ms"] < row["target_p99_ms"])
                and row["non_200"] == 0
                and not row["problems"]
            )
        rows.append(row)
    return rows


def print_summary(rows: list[dict], args) -> None:
    print(
        f"\nSummary (median of {args.rounds} round(s); CPU per request of the gunicorn workers "
        f"and of their PostgreSQL backends; ceiling = {os.cpu_count()} cores / CPU per request):"
    )
    print(
        "| page | worker class | req/s | p50 ms | p99 ms | non-200 | queries "
        "| CPU ms/req (workers + PostgreSQL) | ceiling req/s | least disturbed round: req/s, "
        "p50, p99 (bench's share of the CPU) | target | met |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for row in rows:
        if "rps" not in row:
            print(
                f"| {row['page']} | {row['worker_class']} | not measured: {row['problems'][0]} "
                "| | | | | | | | | no |"
            )
            continue
        spread = f" ({row['rps_min']:.0f}–{row['rps_max']:.0f})" if row["rounds"] > 1 else ""
        target = "—" if row["target_rps"] is None else f"≥ {row['target_rps']:g}"
        if row["target_p99_ms"] is not None:
            target += f", p99 < {row['target_p99_ms']:g} ms"
        met = {None: "—", True: "yes", False: "no"}[row["met"]]
        print(
            f"| {row['page']} | {row['worker_class']} | {row['rps']:.0f}{spread} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['non_200']} | {row['queries']} | "
            f"{row['worker_cpu_ms']:.1f} + {row['postgres_cpu_ms']:.1f} | "
            f"{row['ceiling_rps']:.0f} | {row['calm_rps']:.0f}, {row['calm_p50_ms']:.0f} ms, "
            f"{row['calm_p99_ms']:.0f} ms ({row['calm_share_pct']:.0f} %) | {target} | {met} |"
        )


def collectstatic(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        env={**os.environ, **env},
        cwd=common.ROOT,
        check=True,
    )


def main() -> int:
    args = parse_args()
    if args.worker_classes.strip():
        ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="webbench-"))
    env = environment(str(workdir / "static"))
    os.environ.update(env)
    print("Machine:")
    common.print_machine_info()
    print("  load is shared: other processes on this machine may be running at the same time")

    if args.skip_data:
        with common.connect() as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE])
            if found.fetchone() is None:
                sys.exit(f"--skip-data: no template database {TEMPLATE}; run once with --keep")
        common.create_database(DB, template=TEMPLATE)
        common.django_setup(DB)
        common.migrate()  # the code may have new migrations since the template was made
        print(f"\nData: copied {TEMPLATE} to {DB}")
    else:
        common.django_setup(DB)
        generate(args)
        from django.db import connections

        connections.close_all()
        common.create_database(TEMPLATE, template=DB)
    data = describe_data()
    for key, value in data.items():
        print(f"  {key}: {value}")

    pages = make_pages(args)
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        pages = [page for page in pages if page.name in wanted]
    print("\ncollectstatic ...")
    collectstatic(env)
    queries = count_queries(pages)
    if args.profile:
        profile_pages(pages, args.profile)
    for page in pages:
        page_file = workdir / f"{page.name.replace(' ', '_')}.pairs"
        page_file.write_text("".join(f"{key}\t{path}\n" for key, path, _texts in page.pairs))
    from django.db import connections

    connections.close_all()

    runs = []
    classes = [name.strip() for name in args.worker_classes.split(",") if name.strip()]
    for round_number in range(1, args.rounds + 1):
        for worker_class in classes:
            server, port, config = start_server(env, worker_class, args, workdir / "gunicorn.log")
            print(f"\nRound {round_number}/{args.rounds}: gunicorn {config}")
            print(
                f"  wrk -t{args.wrk_threads} -c{args.clients}: {args.warmup} s warm-up, "
                f"{args.duration} s measured, per page"
            )
            try:
                for page in pages:
                    pairs_file = workdir / f"{page.name.replace(' ', '_')}.pairs"
                    result = measure(server, port, page, pairs_file, args)
                    result.update(worker_class=worker_class, gunicorn=config, round=round_number)
                    runs.append(result)
            finally:
                stop_server(server)

    summary = summarize(runs, queries)
    print_summary(summary, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": common.machine_info(),
                    "data": data,
                    "queries": queries,
                    "runs": runs,
                    "summary": summary,
                    "args": vars(args),
                },
                indent=2,
                default=str,
            )
        )
    if not args.keep:
        common.drop_database(DB)
        common.drop_database(TEMPLATE)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if summary and all(row["met"] is not False for row in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
