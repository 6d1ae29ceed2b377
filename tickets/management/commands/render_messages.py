from django.core.management.base import BaseCommand, CommandError

from tickets.models import Message, Quote
from tickets.rendering import RENDERER_VERSION, render_outdated


class Command(BaseCommand):
    help = (
        "Render the stored HTML of messages and quote notes that an older renderer made (or none "
        "did). Safe to run at any time and more than once: up-to-date rows are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per query and update (default 500)."
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        messages = render_outdated(Message, "body", batch_size=batch_size)
        quotes = render_outdated(Quote, "note", batch_size=batch_size)
        self.stdout.write(
            f"Rendered {messages:,} messages and {quotes:,} quote notes "
            f"(renderer version {RENDERER_VERSION})."
        )
