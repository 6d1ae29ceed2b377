import sys

from django.core.management.base import BaseCommand

from points.audit import ledger_violations


class Command(BaseCommand):
    help = "Recompute every account from lots, holds and journal entries; exit 1 on any violation."

    def handle(self, *args, **options):
        count = 0
        for violation in ledger_violations():
            count += 1
            self.stdout.write(str(violation))
        if count:
            self.stderr.write(self.style.ERROR(f"{count} ledger violation(s) found."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("Ledger is consistent."))
