"""The embedded run's drop folder (HELPDESK_MAIL_DROP_DIR, `var/mail/incoming/` under `make
run`): each `.eml` file put there is taken in by the beat job, then moved beside the folder, to
`processed/` or `rejected/`. As with IMAP, a file is moved only once its outcome is committed."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from .imap import PollResult
from .models import InboundSource, InboundStatus
from .services import inbound_ingest

logger = logging.getLogger(__name__)


def drop_folder_poll(*, limit: int = 200) -> PollResult:
    """Take in the .eml files waiting in the drop folder (oldest first, at most `limit`)."""
    result = PollResult()
    if not settings.HELPDESK_MAIL_DROP_DIR:
        return result
    incoming = Path(settings.HELPDESK_MAIL_DROP_DIR)
    incoming.mkdir(parents=True, exist_ok=True)
    targets = {
        InboundStatus.ACCEPTED: incoming.parent / "processed",
        InboundStatus.REJECTED: incoming.parent / "rejected",
    }
    for target in targets.values():
        target.mkdir(parents=True, exist_ok=True)
    files = sorted(
        (path for path in incoming.glob("*.eml") if path.is_file()),
        key=lambda path: (path.stat().st_mtime, path.name),
    )[:limit]
    for path in files:
        try:
            size = path.stat().st_size
            with path.open("rb") as file:
                # Past the limit only the head is read: the service records it as too large.
                raw = file.read(min(size, settings.HELPDESK_MAIL_MAX_BYTES + 1))
            ingested = inbound_ingest(raw=raw, source=InboundSource.DROP, size=size)
        except Exception:
            logger.exception("Could not take in %s; it stays in the drop folder", path.name)
            result.failed += 1
            continue
        status = ingested.inbound.status
        if not ingested.created:
            result.duplicates += 1
        elif status == InboundStatus.ACCEPTED:
            result.accepted += 1
        else:
            result.rejected += 1
        path.replace(targets[status] / path.name)
    return result
