"""The beat job that fetches mail: the IMAP mailbox when one is configured, and the embedded
run's drop folder when it is set. One poll at a time: a run that finds another still going
leaves the messages to it."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from core.jobs import JOB_OPTIONS

from .drop import drop_folder_poll
from .imap import mailbox_poll

logger = logging.getLogger(__name__)

LOCK_KEY = "mail:poll:running"
LOCK_SECONDS = 600


@shared_task(**JOB_OPTIONS, soft_time_limit=540, time_limit=600)
def poll_mail() -> dict[str, int]:
    """Take in waiting e-mails (`mail.imap.mailbox_poll`, `mail.drop.drop_folder_poll`)."""
    if not cache.add(LOCK_KEY, 1, LOCK_SECONDS):
        logger.info("Another mail poll is running; this one does nothing")
        return {}
    try:
        handled = {}
        if settings.HELPDESK_MAIL_IMAP_HOST:
            handled["imap"] = mailbox_poll().handled
        if settings.HELPDESK_MAIL_DROP_DIR:
            handled["drop"] = drop_folder_poll().handled
        return handled
    finally:
        cache.delete(LOCK_KEY)
