"""Personal-data jobs: building an export (asked for by its owner) and the daily retention run
(see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from core.jobs import JOB_OPTIONS

from .anonymize import ticket_texts_retention_apply
from .exporting import data_export_build, data_exports_purge


@shared_task(**JOB_OPTIONS, soft_time_limit=30 * 60, time_limit=35 * 60)
def build_data_export(export_id: int) -> None:
    data_export_build(export_id=export_id)


@shared_task(**JOB_OPTIONS, soft_time_limit=30 * 60, time_limit=35 * 60)
def apply_retention() -> int:
    """Erase ticket texts past PRIVACY_TICKET_TEXT_RETENTION_DAYS; remove expired exports."""
    data_exports_purge()
    return ticket_texts_retention_apply()
