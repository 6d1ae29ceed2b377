from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.services import tickets_close_quiet


class Command(BaseCommand):
    help = (
        "Close resolved tickets with no activity for HELPDESK_AUTO_CLOSE_DAYS (the beat task runs "
        "the same code hourly)."
    )

    def handle(self, *args, **options):
        closed = tickets_close_quiet()
        self.stdout.write(
            f"Closed {closed:,} tickets resolved and quiet for "
            f"{settings.HELPDESK_AUTO_CLOSE_DAYS} days."
        )
