"""The Celery application: configured from Django settings (the CELERY_ namespace).

Workers: `celery -A helpdesk worker`; the schedule (CELERY_BEAT_SCHEDULE in settings), exactly one
`celery -A helpdesk beat`. Every scheduled job is also a management command running the same code,
so cron can replace beat.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
