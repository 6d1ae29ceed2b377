from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.services import access_details_erase_due


class Command(BaseCommand):
    help = (
        "Erase customers' server access details HELPDESK_ACCESS_DETAILS_RETENTION_DAYS after their "
        "ticket closed (the beat task runs the same code daily)."
    )

    def handle(self, *args, **options):
        erased = access_details_erase_due()
        self.stdout.write(
            f"Erased the access details of {erased:,} tickets closed more than "
            f"{settings.HELPDESK_ACCESS_DETAILS_RETENTION_DAYS} days ago."
        )
