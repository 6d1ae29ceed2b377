from django.core.management.base import BaseCommand

from tickets.services import tickets_compensate_late_hotrush


class Command(BaseCommand):
    help = (
        "Return the HotRush surcharge of urgent tickets still unanswered past their due time (the "
        "beat task runs the same code every minute)."
    )

    def handle(self, *args, **options):
        compensated = tickets_compensate_late_hotrush()
        self.stdout.write(f"Returned the HotRush surcharge of {compensated:,} late tickets.")
