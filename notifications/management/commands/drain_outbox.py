from django.core.management.base import BaseCommand

from notifications.sending import (
    MAX_ATTEMPTS,
    notifications_given_up,
    notifications_retry_failed,
    notifications_send_due,
)


class Command(BaseCommand):
    help = (
        "Send e-mail notifications still waiting in the outbox (their task was never queued, or "
        "sending failed and its retry is due). The beat task runs the same code every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help=f"Also retry notifications that failed {MAX_ATTEMPTS} times (after a fix).",
        )

    def handle(self, *args, retry_failed, **options):
        if retry_failed:
            self.stdout.write(f"Retrying {notifications_retry_failed():,} failed notifications.")
        sent = notifications_send_due()
        self.stdout.write(f"Sent {sent:,} notifications.")
        given_up = notifications_given_up()
        if given_up:
            self.stderr.write(
                f"{given_up:,} notifications failed {MAX_ATTEMPTS} times and are no longer "
                "retried (see their last_error); fix the cause, then run with --retry-failed."
            )
