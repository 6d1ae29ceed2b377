"""Receipts: how long one receipt PDF takes to render, and the peak memory of the outbox e-mailing
1,000 receipts (each "payment received" e-mail renders its PDF when it is sent).

Targets (issue 13): a receipt PDF in under 300 ms; 1,000 receipts e-mailed within 200 MB.

    .venv/bin/python bench/receipts.py                 # 1,000 paid orders, 20 PDF renders
    .venv/bin/python bench/receipts.py --orders 200 --renders 5

The database hd_receipts is created, migrated and dropped (`--keep` keeps it). The e-mails go to
Django's file-based backend in a temporary folder (every message is built and written in full).
The drain runs in a child process of its own, so its peak resident memory (ru_maxrss) is the
outbox's alone, Django and WeasyPrint included.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import common

DB = "hd_receipts"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drain", metavar="FOLDER", help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_orders(count: int) -> None:
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from accounts.models import Account, Membership, MembershipRole
    from points.models import PointPackage
    from points.services import order_create, order_mark_paid

    user = get_user_model().objects.create_user(email="owner@bench.example", password="x")
    account = Account.objects.create(name="Bench customer Ltd")
    Membership.objects.create(account=account, user=user, role=MembershipRole.OWNER)
    package = PointPackage.objects.create(name="100 points", points=100, price=Decimal("120.00"))
    for index in range(count):
        order = order_create(account=account, package=package, backend="manual", actor=user)
        order_mark_paid(order=order, payment_reference=f"bench-{index}", actor=user)


def time_renders(renders: int) -> tuple[float, list[float]]:
    from billing.documents import receipt_pdf
    from billing.models import Receipt

    receipt = Receipt.objects.order_by("id").first()
    times, cpu = [], []
    for _ in range(renders + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        receipt_pdf(receipt)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return times[0], times[1:], cpu[1:]


def drain(folder: str) -> None:
    """The child: send every queued e-mail, print what it sent and its peak memory."""
    common.django_setup(DB)
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = folder

    from notifications.sending import notifications_send_due

    start = time.perf_counter()
    sent = notifications_send_due(at=timezone.now() + timedelta(hours=1), limit=100_000)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"sent": sent, "seconds": seconds, "peak_mb": peak_mb}))


def main() -> int:
    args = parse_args()
    if args.migrate:
        common.django_setup(DB)
        common.migrate()
        setup_orders(args.orders)
        return 0
    if args.drain:
        drain(args.drain)
        return 0

    print("Machine:")
    common.print_machine_info()
    common.create_database(DB)
    try:
        started = time.perf_counter()
        command = [sys.executable, __file__, "--migrate", "--orders", str(args.orders)]
        subprocess.run(command, check=True, cwd=common.ROOT)
        seconds = time.perf_counter() - started
        print(f"{args.orders} orders paid (receipts issued) in {seconds:.1f} s")

        common.django_setup(DB)
        cold, warm, cpu = time_renders(args.renders)
        print(
            f"Receipt PDF: first render {cold:.0f} ms (fonts loaded); next {len(warm)}: "
            f"median {statistics.median(warm):.0f} ms, max {max(warm):.0f} ms wall clock; "
            f"CPU time median {statistics.median(cpu):.0f} ms, max {max(cpu):.0f} ms"
        )
        from django.db import connections

        connections.close_all()

        with tempfile.TemporaryDirectory(prefix="hd-receipts-mail-") as folder:
            result = subprocess.run(
                [sys.executable, __file__, "--drain", folder],
                check=True,
                cwd=common.ROOT,
                capture_output=True,
                text=True,
            )
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            files = subprocess.run(["du", "-sh", folder], capture_output=True, text=True).stdout
        print(
            f"Outbox: {figures['sent']} e-mails with their receipt PDF sent in "
            f"{figures['seconds']:.1f} s; peak resident memory {figures['peak_mb']:.0f} MB "
            f"(written: {files.split()[0]})"
        )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            common.drop_database(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
