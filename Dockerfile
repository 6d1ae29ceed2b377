# The one image of every HelpDesk service in docker-compose.yml: migrate, web, worker, beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# WeasyPrint (receipts and credit notes as PDF) needs Pango, HarfBuzz's subsetter and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from pyproject.toml (the one list of them), so code changes reuse this layer.
# The code itself runs from /app: settings find templates/ and static/ beside it.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code: everything .dockerignore lets through (every app, templates, static files), so a new
# app needs no change here.
COPY . .

# Static files are collected into the image and served by WhiteNoise. Settings refuse to load
# without a secret key; this one exists only during this step.
RUN SECRET_KEY=collectstatic-only-not-a-secret HELPDESK_ENV_FILE= \
        DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
        python manage.py collectstatic --noinput --verbosity 0

# Never root at run time. /app/media is where the `media` volume is mounted (uploaded files).
RUN useradd --system --uid 10001 --home-dir /app --no-create-home helpdesk \
    && mkdir -p /app/media \
    && chown helpdesk:helpdesk /app/media
USER helpdesk
# Fontconfig (under WeasyPrint) keeps its cache in the user's cache directory; /app is not writable.
ENV MEDIA_ROOT=/app/media \
    XDG_CACHE_HOME=/tmp/.cache

EXPOSE 8000
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
