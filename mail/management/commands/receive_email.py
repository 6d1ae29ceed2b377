"""`manage.py receive_email`: take one raw e-mail on standard input (for an MTA's pipe).

Exit status: 0 when the e-mail was taken in (accepted, rejected with a reason, or already taken
in), 75 (EX_TEMPFAIL: the MTA keeps the e-mail and tries again later) when it could not be
recorded, e.g. the database is down.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from mail.models import InboundSource
from mail.services import inbound_ingest

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Take in one raw e-mail from standard input (an MTA pipe)."
    # Tests hand the command its standard input (a binary stream) as `stdin`.
    stealth_options = ("stdin",)

    def handle(self, *args, **options):
        stdin = options.get("stdin") or sys.stdin.buffer
        # One byte past the limit is enough to know it is too large; the rest is read (the MTA
        # waits for that) but not kept.
        raw = stdin.read(settings.HELPDESK_MAIL_MAX_BYTES + 1)
        while stdin.read(1024 * 1024):
            pass
        try:
            result = inbound_ingest(raw=raw, source=InboundSource.PIPE)
        except DatabaseError as error:
            self.stderr.write(f"Could not record the e-mail, try again later: {error}")
            sys.exit(EX_TEMPFAIL)
        inbound = result.inbound
        state = "received" if result.created else "already received"
        self.stdout.write(f"{state}: {inbound.status} ({inbound.outcome}) #{inbound.pk}")
