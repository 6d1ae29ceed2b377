"""Gunicorn's settings for the web service of docker-compose.yml (`--config=python:...`): its own
log lines (start-up, workers, one per request) as JSON objects on standard output, in the same
fields as the HelpDesk's (settings.LOGGING), so that every line `compose logs web` shows parses."""

_JSON = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
    "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
_STDOUT = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": _JSON},
    "handlers": {"stdout": _STDOUT},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}

# Gunicorn's control socket (gunicornc, from 25.1) would go under $HOME, which is the read-only
# /app in the image: /tmp is the user's.
control_socket = "/tmp/gunicorn.ctl"
