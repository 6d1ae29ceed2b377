"""HelpDesk settings, read once from the environment (django-environ).

Every variable is documented in README.md ("Configuration"). The embedded default needs none of
them: SQLite in the project folder, the console e-mail backend, DEBUG on through the run command.
"""

import os
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from helpdesk.beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py fills in what the environment doesn't set; HELPDESK_ENV_FILE names
# another file, or none when empty (the tests use that to see only their own environment).
ENV_FILE = os.environ.get("HELPDESK_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-key-never-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string), or DEBUG=true for local development."
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "helpdesk",
    "notifications",
    "accounts",
    "catalog",
    "points",
    "tickets",
    "billing",
    "audit",
    "security",
    "privacy",
    "mail",
    "api",
    "helpdesk.apps.HelpDeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Trust (issue 14): the client address the audit trail records; the second factor after the
    # password (django-otp), and the record of signed-in sessions.
    "core.request_context.ClientAddressMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "security.middleware.SecondFactorMiddleware",
    "security.middleware.SessionActivityMiddleware",
    "helpdesk.middleware.PrivatePagesNotStoredMiddleware",
    # Last, as django-axes requires: it locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded run has a web server and a Celery worker writing to one file: take the write
    # lock when a transaction starts (no upgrade deadlocks) and wait for it instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and authentication -----------------------------------------------------------------

AUTH_USER_MODEL = "helpdesk.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountUserBackend",
    # Only for the sessions signed in before AccountUserBackend: a session names its backend.
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Bounded so that hashing a submitted password stays cheap.
    {"NAME": "helpdesk.validators.MaximumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:list"
LOGOUT_REDIRECT_URL = "catalog:pricing"

# Password guessing (see helpdesk/auth.py): failures within the cool-off period pause logging in
# for one identity (the normalized address) from one client address, for one client address
# whatever identities it tries, and for one identity from addresses it never logged in from.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_IDENTITY_FAILURE_LIMIT = env.int("LOGIN_IDENTITY_FAILURE_LIMIT", default=20)
if not 0 < LOGIN_FAILURE_LIMIT < min(LOGIN_IP_FAILURE_LIMIT, LOGIN_IDENTITY_FAILURE_LIMIT):
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be positive and lower than LOGIN_IP_FAILURE_LIMIT and "
        "LOGIN_IDENTITY_FAILURE_LIMIT."
    )
# Reverse proxies in front of the web server that append the client's address to
# X-Forwarded-For; 0: the peer's address is the client's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = env.float("LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "helpdesk.auth.login_identity"
AXES_CLIENT_IP_CALLABLE = "core.clients.client_ip"
AXES_HANDLER = "helpdesk.auth.LayeredLockoutHandler"
AXES_LOCKOUT_CALLABLE = "helpdesk.auth.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# E-mails anyone can ask for (sign-up links, password resets, invitations), per window of
# ACCOUNT_EMAIL_LIMIT_MINUTES: at most so many to one address and asked from one client address.
ACCOUNT_EMAIL_LIMIT_PER_ADDRESS = env.int("ACCOUNT_EMAIL_LIMIT_PER_ADDRESS", default=5)
ACCOUNT_EMAIL_LIMIT_PER_IP = env.int("ACCOUNT_EMAIL_LIMIT_PER_IP", default=20)
ACCOUNT_EMAIL_LIMIT_MINUTES = env.int("ACCOUNT_EMAIL_LIMIT_MINUTES", default=60)
# A sign-up link finishes the sign-up within this many hours.
ACCOUNT_SIGNUP_LINK_HOURS = env.int("ACCOUNT_SIGNUP_LINK_HOURS", default=24)

# --- Trust (issue 14): two-factor sign-in, audit trail -----------------------------------------

# Staff sign in with a code from an authenticator app after the password. Only with DEBUG on (the
# embedded demo) may it be turned off.
STAFF_TWO_FACTOR_REQUIRED = env.bool("STAFF_TWO_FACTOR_REQUIRED", default=True)
if not STAFF_TWO_FACTOR_REQUIRED and not DEBUG:
    raise ImproperlyConfigured("STAFF_TWO_FACTOR_REQUIRED=false is refused outside DEBUG.")
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="HelpDesk")
# Each wrong code doubles the wait before the next one is checked (django-otp's throttling), on
# top of the login lock-out the wrong codes count toward.
OTP_TOTP_THROTTLE_FACTOR = 1
# Device secrets never appear in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# An account's data export is offered through a link that works this many hours; then its file is
# removed.
PRIVACY_EXPORT_LINK_HOURS = env.int("PRIVACY_EXPORT_LINK_HOURS", default=72)
# Message texts and attachments of tickets closed longer than this many days are erased by a daily
# job (the tickets' numbers, costs and dates stay); 0 keeps them (the default).
PRIVACY_TICKET_TEXT_RETENTION_DAYS = env.int("PRIVACY_TICKET_TEXT_RETENTION_DAYS", default=0)
if PRIVACY_EXPORT_LINK_HOURS < 1 or PRIVACY_TICKET_TEXT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "PRIVACY_EXPORT_LINK_HOURS must be positive and PRIVACY_TICKET_TEXT_RETENTION_DAYS "
        "not negative."
    )

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("HELPDESK_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded files are never served from a public URL: attachments go through a permission-checked
# view. An S3-compatible store can replace the disk here without code changes.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Redis, cache, Celery ---------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- E-mail -----------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="HelpDesk <helpdesk@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Security (HTTPS) -------------------------------------------------------------------------

# Served over HTTPS unless told otherwise outside DEBUG: secure cookies, HSTS, redirect to https.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env.bool("BEHIND_HTTPS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# A strict Content-Security-Policy (django-csp): scripts, styles, images and fonts come from the
# HelpDesk's own static files only; no inline script or style, no plugins, no framing, forms post
# only to the HelpDesk. A stored-XSS bug that slipped past the sanitizer could not run anything.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- The HelpDesk's own rules -----------------------------------------------------------------

# Public address used in e-mail links, e.g. https://helpdesk.example.com
HELPDESK_BASE_URL = env("HELPDESK_BASE_URL", default="http://127.0.0.1:8000")
# Points returned after their lot expired come back in a new lot valid this many days.
HELPDESK_RETURN_GRACE_DAYS = env.int("HELPDESK_RETURN_GRACE_DAYS", default=30)
# The most points one operation may move (a grant, an adjustment, a ticket's cost, a quote, a
# package, a category's price): a slip of the keyboard is refused instead of recorded.
HELPDESK_MAX_POINTS_PER_OPERATION = env.int("HELPDESK_MAX_POINTS_PER_OPERATION", default=100_000)
if not 1 <= HELPDESK_MAX_POINTS_PER_OPERATION <= 2**31 - 1:
    raise ImproperlyConfigured("HELPDESK_MAX_POINTS_PER_OPERATION must be from 1 to 2147483647.")
# Points staff grant expire at most this many days ahead (the default: two years).
HELPDESK_MAX_GRANT_VALIDITY_DAYS = env.int("HELPDESK_MAX_GRANT_VALIDITY_DAYS", default=3650)
if not 1 <= HELPDESK_MAX_GRANT_VALIDITY_DAYS <= 36500:
    raise ImproperlyConfigured("HELPDESK_MAX_GRANT_VALIDITY_DAYS must be from 1 to 36500.")
# Holidays that do not count towards the first-response target, ISO dates.
HELPDESK_HOLIDAYS = env.list("HELPDESK_HOLIDAYS", default=[])
HELPDESK_WORKING_HOURS_START = time.fromisoformat(
    env("HELPDESK_WORKING_HOURS_START", default="09:00")
)
HELPDESK_WORKING_HOURS_END = time.fromisoformat(env("HELPDESK_WORKING_HOURS_END", default="18:00"))
HELPDESK_REOPEN_DAYS = env.int("HELPDESK_REOPEN_DAYS", default=14)
HELPDESK_AUTO_CLOSE_DAYS = env.int("HELPDESK_AUTO_CLOSE_DAYS", default=5)
HELPDESK_ACCESS_DETAILS_RETENTION_DAYS = env.int(
    "HELPDESK_ACCESS_DETAILS_RETENTION_DAYS", default=90
)
# Fernet keys for customers' server access details, newest first (rotation: prepend a new key).
# Default: derived from SECRET_KEY.
HELPDESK_ACCESS_DETAILS_KEYS = env.list("HELPDESK_ACCESS_DETAILS_KEYS", default=[])
HELPDESK_EXPIRY_BATCH_SIZE = env.int("HELPDESK_EXPIRY_BATCH_SIZE", default=5000)

# Payments: "demo" pays at once (demos and tests only), "manual" waits for staff.
PAYMENT_BACKEND = env("PAYMENT_BACKEND", default="demo" if DEBUG else "manual")
PAYMENT_WEBHOOK_SECRET = env("PAYMENT_WEBHOOK_SECRET", default="")
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", default=300)
# The largest webhook body read; a bigger one is refused unread (a provider's event is ~1 KB).
PAYMENT_WEBHOOK_MAX_BYTES = env.int("PAYMENT_WEBHOOK_MAX_BYTES", default=64 * 1024)
if PAYMENT_BACKEND == "demo" and not DEBUG and not env.bool("PAYMENT_DEMO_ALLOWED", default=False):
    raise ImproperlyConfigured(
        "PAYMENT_BACKEND=demo pays every order for free; it is refused outside DEBUG "
        "unless PAYMENT_DEMO_ALLOWED=true."
    )

# --- Attachments ------------------------------------------------------------------------------

# Files customers attach to ticket messages: size of one file, files per message, and the allowed
# types by extension (the content is checked against the type; see tickets.services).
HELPDESK_ATTACHMENT_MAX_BYTES = env.int("HELPDESK_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
HELPDESK_ATTACHMENT_MAX_COUNT = env.int("HELPDESK_ATTACHMENT_MAX_COUNT", default=5)
HELPDESK_ATTACHMENT_EXTENSIONS = env.list(
    "HELPDESK_ATTACHMENT_EXTENSIONS",
    default=["png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "log", "csv", "json", "zip"],
)
# The longest message (a ticket's description, a reply, an internal note), in characters.
HELPDESK_MESSAGE_MAX_CHARS = env.int("HELPDESK_MESSAGE_MAX_CHARS", default=50_000)

# --- REST API (issue 12) ----------------------------------------------------------------------

# DRF for /api/v1/: personal tokens and integration keys (api.authentication), the session with
# CSRF for the site's own pages; errors as application/problem+json (api.problems); throttles per
# credential on the cache (Redis in production through CACHE_URL).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.CredentialRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "credential": env("API_THROTTLE_RATE", default="1200/min"),
        "anonymous": env("API_ANONYMOUS_THROTTLE_RATE", default="60/min"),
    },
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HelpDesk API",
    "DESCRIPTION": "Support points, tickets and accounts of the HelpDesk (see README, 'API').",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "OrderStatusEnum": "points.models.OrderStatus",
    },
}
# An Idempotency-Key's first response is replayed for this many hours (at least 24).
API_IDEMPOTENCY_HOURS = env.int("API_IDEMPOTENCY_HOURS", default=24)
if API_IDEMPOTENCY_HOURS < 24:
    raise ImproperlyConfigured("API_IDEMPOTENCY_HOURS must be at least 24.")
# Outgoing webhooks: seconds to wait for a receiver, attempts before a delivery is given up.
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Let webhooks go to loopback and private addresses (an on-premises receiver; the tests).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

# --- Logging ----------------------------------------------------------------------------------

# Everything goes to standard output, for the process manager (compose, systemd) to collect: one
# JSON object per line in production (LOG_FORMAT=json, the default without DEBUG), plain lines
# for people at a terminal (LOG_FORMAT=plain, the default with DEBUG).
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["stdout"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tasks report through the database and the logs; nobody reads their return values.
CELERY_TASK_IGNORE_RESULT = True
# Every task is idempotent: acknowledge a message once its task has finished, so a task whose
# worker died is run again, and take one message at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING above (JSON in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# A web request queues its e-mails after commit; with the broker down it must not hang: give up
# within about a second (the notification waits in the outbox and the drain sends it).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Local state of the embedded run (`manage.py run_embedded`): its file-based broker and the beat
# schedule file.
HELPDESK_RUN_DIR = Path(env("HELPDESK_RUN_DIR", default=str(BASE_DIR / "var")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The broker that needs no server: messages are files in a folder shared by the web server
    # and the worker on one machine.
    _queue_dir = HELPDESK_RUN_DIR / "celery" / "queue"
    _processed_dir = HELPDESK_RUN_DIR / "celery" / "processed"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(HELPDESK_RUN_DIR / "celery" / "control"),
        "store_processed": False,
    }
    # The embedded run prints e-mails to the console: let the worker's output through as it is
    # instead of logging every line of every e-mail as a warning from "celery.redirected".
    CELERY_WORKER_REDIRECT_STDOUTS = False
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "retry_on_timeout": True,
        "health_check_interval": 25,
        # A message not acknowledged within an hour is delivered again: longer than any task's
        # time limit, so a running task is never duplicated.
        "visibility_timeout": 3600,
    }

# HELPDESK_EXPIRY_INTERVAL_SECONDS runs the expiry job every N seconds instead of hourly (demos,
# tests); the schedule itself is in helpdesk/beat.py (set below, with the mail poll's interval).
_expiry_interval = env.int("HELPDESK_EXPIRY_INTERVAL_SECONDS", default=0)

# Issue 13 — receipts, credit notes, low-balance alerts, HotRush compensation. The seller's details
# are printed on every receipt and credit note; HELPDESK_TAX_RATE is a percentage included in the
# package prices (0: no tax line).
HELPDESK_SELLER_NAME = env("HELPDESK_SELLER_NAME", default="HelpDesk Support Ltd")
HELPDESK_SELLER_ADDRESS = env("HELPDESK_SELLER_ADDRESS", default="")
HELPDESK_SELLER_TAX_ID = env("HELPDESK_SELLER_TAX_ID", default="")
try:
    HELPDESK_TAX_RATE = Decimal(env("HELPDESK_TAX_RATE", default="0"))
except InvalidOperation as _error:
    raise ImproperlyConfigured("HELPDESK_TAX_RATE must be a number (a percentage).") from _error
if not Decimal(0) <= HELPDESK_TAX_RATE < Decimal(100) or HELPDESK_TAX_RATE.as_tuple().exponent < -2:
    raise ImproperlyConfigured("HELPDESK_TAX_RATE must be from 0 to 99.99, two decimals at most.")
# The low-balance alert threshold of an account that has not set its own (0: off by default).
HELPDESK_LOW_BALANCE_DEFAULT = env.int("HELPDESK_LOW_BALANCE_DEFAULT", default=0)
if not 0 <= HELPDESK_LOW_BALANCE_DEFAULT <= HELPDESK_MAX_POINTS_PER_OPERATION:
    raise ImproperlyConfigured("HELPDESK_LOW_BALANCE_DEFAULT must be from 0 to the points limit.")
# A HotRush ticket whose first staff response is late gets its urgency surcharge back.
HELPDESK_HOTRUSH_COMPENSATION = env.bool("HELPDESK_HOTRUSH_COMPENSATION", default=True)
# WeasyPrint logs every step of every PDF at INFO.
LOGGING["loggers"]["weasyprint"] = {"level": "WARNING"}
# --- E-mail channel (issue 11) ------------------------------------------------------------------
# Notifications about a ticket carry a signed reply address on the support address
# (support+t<ticket>.u<user>.<signature>@…); replies and new requests come in through an IMAP
# mailbox polled by beat, `manage.py receive_email` (an MTA pipe), a signed HTTP endpoint, or the
# drop folder of the embedded run. See README, "The e-mail channel".
HELPDESK_MAIL_SUPPORT_ADDRESS = env("HELPDESK_MAIL_SUPPORT_ADDRESS", default="support@localhost")
# The largest raw message taken in (bytes); larger ones are rejected unread.
HELPDESK_MAIL_MAX_BYTES = env.int("HELPDESK_MAIL_MAX_BYTES", default=25 * 1024 * 1024)
# Unknown senders get at most one answer per address in this many hours.
HELPDESK_MAIL_UNKNOWN_SENDER_HOURS = env.int("HELPDESK_MAIL_UNKNOWN_SENDER_HOURS", default=24)
# The category of a ticket opened by e-mail (its name); it waits for a staff quote either way.
HELPDESK_MAIL_NEW_TICKET_CATEGORY = env("HELPDESK_MAIL_NEW_TICKET_CATEGORY", default="Other issues")
HELPDESK_MAIL_IMAP_HOST = env("HELPDESK_MAIL_IMAP_HOST", default="")
HELPDESK_MAIL_IMAP_PORT = env.int("HELPDESK_MAIL_IMAP_PORT", default=993)
# "ssl" (implicit TLS, port 993), "starttls" (port 143) or "none" (only on a trusted network).
HELPDESK_MAIL_IMAP_TLS = env("HELPDESK_MAIL_IMAP_TLS", default="ssl")
HELPDESK_MAIL_IMAP_USER = env("HELPDESK_MAIL_IMAP_USER", default="")
HELPDESK_MAIL_IMAP_PASSWORD = env("HELPDESK_MAIL_IMAP_PASSWORD", default="")
HELPDESK_MAIL_IMAP_FOLDER = env("HELPDESK_MAIL_IMAP_FOLDER", default="INBOX")
HELPDESK_MAIL_IMAP_PROCESSED_FOLDER = env(
    "HELPDESK_MAIL_IMAP_PROCESSED_FOLDER", default="processed"
)
HELPDESK_MAIL_IMAP_REJECTED_FOLDER = env("HELPDESK_MAIL_IMAP_REJECTED_FOLDER", default="rejected")
# Messages handled per poll (the rest wait for the next one).
HELPDESK_MAIL_IMAP_BATCH = env.int("HELPDESK_MAIL_IMAP_BATCH", default=200)
# The embedded run's drop folder: a .eml file put there is ingested by the beat job ("" = off).
HELPDESK_MAIL_DROP_DIR = env(
    "HELPDESK_MAIL_DROP_DIR", default=str(HELPDESK_RUN_DIR / "mail" / "incoming") if DEBUG else ""
)
# The shared secret of the signed inbound endpoint (POST /mail/inbound); "" turns it off.
HELPDESK_MAIL_INBOUND_SECRET = env("HELPDESK_MAIL_INBOUND_SECRET", default="")
HELPDESK_MAIL_INBOUND_TOLERANCE_SECONDS = env.int(
    "HELPDESK_MAIL_INBOUND_TOLERANCE_SECONDS", default=300
)
HELPDESK_MAIL_POLL_SECONDS = env.int("HELPDESK_MAIL_POLL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = beat_schedule(
    expiry_interval=_expiry_interval, mail_poll_seconds=HELPDESK_MAIL_POLL_SECONDS
)

# --- Scaling out (issue 15): uploads on an object store, shared sessions, metrics --------------
# Uploaded files go through Django's storage API: the local disk (MEDIA_ROOT) by default, or an
# S3-compatible bucket that every web host reads ("s3"). Downloads still go through the
# permission-checked view, which streams the file from the store.
FILE_STORAGE = env("FILE_STORAGE", default="local")
if FILE_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "access_key": env("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("S3_SECRET_ACCESS_KEY", default=None),
            "location": env("S3_PREFIX", default="media"),
            # Objects stay private; a name already taken gets a suffix rather than a replacement.
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_expire": 60,
        },
    }
elif FILE_STORAGE != "local":
    raise ImproperlyConfigured("FILE_STORAGE must be 'local' or 's3'.")
# With the cache on Redis (every production host shares it), sessions are read from it and written
# through to the database; without, from the database.
SESSION_ENGINE = env(
    "SESSION_ENGINE",
    default=(
        "django.contrib.sessions.backends.cached_db"
        if "redis" in CACHES["default"]["BACKEND"].lower()
        else "django.contrib.sessions.backends.db"
    ),
)
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off (404).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# First, so the latency it measures covers every other middleware.
MIDDLEWARE = ["helpdesk.metrics.RequestLatencyMiddleware", *MIDDLEWARE]
