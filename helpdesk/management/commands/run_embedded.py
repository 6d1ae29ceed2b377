from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the whole HelpDesk on the embedded default: migrate, create demo users and data if "
        "missing, and serve on 127.0.0.1:8000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        call_command("migrate", interactive=False, verbosity=1)
        call_command("seed_demo")
        call_command("runserver", addrport, use_reloader=False)
