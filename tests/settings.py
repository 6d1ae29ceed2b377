"""Test settings: the production settings against PostgreSQL and Redis on localhost, made fast."""

import os
import tempfile

os.environ.setdefault("HELPDESK_ENV_FILE", "")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("PAYMENT_BACKEND", "demo")
os.environ.setdefault("PAYMENT_DEMO_ALLOWED", "true")
os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "tests-webhook-secret")
# The API's webhook tests post to a receiver on 127.0.0.1.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "true")

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="helpdesk-test-media-")
STATIC_ROOT = tempfile.mkdtemp(prefix="helpdesk-test-static-")
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
