"""`/metrics` for Prometheus: request latency, and the figures operators watch, read from the
database at each scrape (so every web process reports the same, whichever the scrape reaches).

- Request latency: a histogram per view (the URL pattern's name, never the raw path, so the
  number of series stays bounded), method and status class, kept by `RequestLatencyMiddleware`.
  Under gunicorn each worker keeps its own: set PROMETHEUS_MULTIPROC_DIR (an empty directory,
  emptied when the server starts) and the scrape sums them (prometheus-client's multiprocess mode).
- The outbox's backlog and the age of its oldest unsent e-mail; lots past their expiry not yet
  recorded as expired (the expiry job is behind); active tickets past their first-response target;
  journal entries and holds ever written (counters: `rate()` gives ledger operations per second).

The page is off unless METRICS_TOKEN is set; a scraper sends it as `Authorization: Bearer …`.
"""

from __future__ import annotations

import hmac
import os
import time

from django.conf import settings
from django.db.models import Max, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from notifications.models import Notification
from points.models import Entry, Hold, Lot
from tickets.models import AWAITING_FIRST_RESPONSE, Ticket

REQUEST_LATENCY = Histogram(
    "helpdesk_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RequestLatencyMiddleware:
    """Times every request (first in the chain, so the time covers every other middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        REQUEST_LATENCY.labels(
            view=view, method=_method(request.method), status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


def _method(method: str | None) -> str:
    # Anything a client makes up counts as "other": it can't grow the number of series.
    return method if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} else "other"


class BusinessCollector:
    """The figures of the database, read when Prometheus scrapes (a few indexed queries)."""

    def collect(self):
        now = timezone.now()
        unsent = Notification.objects.filter(sent_at__isnull=True)
        backlog = unsent.count()
        oldest = unsent.aggregate(oldest=Min("created_at"))["oldest"]
        yield GaugeMetricFamily(
            "helpdesk_outbox_backlog", "E-mails queued and not yet sent.", value=backlog
        )
        yield GaugeMetricFamily(
            "helpdesk_outbox_oldest_unsent_age_seconds",
            "Age of the oldest e-mail not yet sent (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        yield GaugeMetricFamily(
            "helpdesk_lots_due_not_expired",
            "Lots past their expiry that the expiry job has not yet recorded as expired.",
            value=Lot.objects.filter(expired_at__isnull=True, expires_at__lte=now).count(),
        )
        yield GaugeMetricFamily(
            "helpdesk_tickets_first_response_overdue",
            "Active tickets past their first-response target without a staff reply.",
            value=Ticket.objects.filter(
                AWAITING_FIRST_RESPONSE, first_response_due_at__lt=now
            ).count(),
        )
        # Ids only grow (a rolled-back insert skips some, so these are upper bounds by a hair).
        yield CounterMetricFamily(
            "helpdesk_ledger_entries",
            "Journal entries written (every movement of points of one lot).",
            value=Entry.objects.aggregate(last=Max("id"))["last"] or 0,
        )
        yield CounterMetricFamily(
            "helpdesk_ledger_holds",
            "Holds created (tickets whose points were captured).",
            value=Hold.objects.aggregate(last=Max("id"))["last"] or 0,
        )


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(BusinessCollector())
    return registry


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@never_cache
@require_GET
def metrics(request):
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off.")
    if not _authorized(request):
        response = HttpResponse(
            "a bearer token is required\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
