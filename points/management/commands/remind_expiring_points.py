from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from points.services import lots_remind_expiring


class Command(BaseCommand):
    help = (
        "E-mail customers whose points expire within 30 days, one e-mail per account, once per "
        "lot (safe to run any time; the beat task runs the same code daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=30, help="Remind of points expiring within this many days."
        )
        parser.add_argument("--batch-size", type=int, help="Lots per transaction.")

    def handle(self, *args, days, batch_size, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = lots_remind_expiring(within=timedelta(days=days), batch_size=batch_size)
        self.stdout.write(
            f"Queued {result.emails:,} reminders about {result.lots:,} expiring lots."
        )
