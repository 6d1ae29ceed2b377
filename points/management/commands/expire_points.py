from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from points.services import ExpiryResult, LedgerError, lots_expire_due


def _parse_as_of(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--as-of: {value!r} is not a date and time (e.g. 2027-03-01T00:00).")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "Record the expiry of every lot whose expiry time has passed (safe to run any time)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=_parse_as_of,
            help="Expire lots due at this date and time (default: now; HelpDesk time zone).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would expire; change nothing."
        )
        parser.add_argument("--batch-size", type=int, help="Lots per transaction.")

    def handle(self, *args, as_of, dry_run, batch_size, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        interactive = self.stdout.isatty()

        def progress(total: ExpiryResult):
            if interactive:
                self.stdout.write(
                    f"\rExpired {total.lots:,} lots ({total.points:,} points)…", ending=""
                )
                self.stdout.flush()

        try:
            result = lots_expire_due(
                as_of=as_of, batch_size=batch_size, dry_run=dry_run, on_batch=progress
            )
        except LedgerError as error:
            raise CommandError(str(error)) from error
        if interactive and not dry_run and result.lots:
            self.stdout.write("")
        verb = "Would expire" if dry_run else "Expired"
        self.stdout.write(f"{verb} {result.lots:,} lots ({result.points:,} points).")
