"""`Idempotency-Key` on every POST, with Stripe's semantics.

The first request with a key runs inside one transaction that first inserts the key's record
(scope + key are unique), then runs the view and stores its answer in the record. A retry with
the same key and the same body gets that answer again (`Idempotent-Replayed: true`); with another
body, 422. A retry that arrives while the first still runs waits on the unique index (PostgreSQL
holds the second insert until the first transaction ends), then replays the stored answer: the
operation runs once. A first request that failed with a server error leaves no record, so its
retry runs anew. Records are kept `API_IDEMPOTENCY_HOURS` (at least 24).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from core.errors import HelpDeskError

from .models import IDEMPOTENCY_KEY_MAX_CHARS, IdempotencyRecord
from .problems import PROBLEM_CONTENT_TYPE, ProblemResponse, problem
from .throttling import credential_scope

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces: what UUIDs and the usual generated keys are made of.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}")


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"{upload.name}:{digest.hexdigest()}"


def _plain(data):
    if hasattr(data, "lists"):  # a QueryDict (multipart): every value of every field
        return {name: [_plain(value) for value in values] for name, values in data.lists()}
    if isinstance(data, UploadedFile):
        return _file_digest(data)
    return data


def request_fingerprint(request) -> str:
    """What makes two requests the same: method, path and the parsed body (files by content)."""
    text = json.dumps(
        [request.method, request.path, _plain(request.data)], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _claim(*, scope: str, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    now = timezone.now()
    record, created = IdempotencyRecord.objects.get_or_create(
        scope=scope, key=key, defaults={"request_hash": fingerprint, "created_at": now}
    )
    if not created and record.created_at < now - timedelta(hours=settings.API_IDEMPOTENCY_HOURS):
        record.delete()
        record = IdempotencyRecord.objects.create(
            scope=scope, key=key, request_hash=fingerprint, created_at=now
        )
        created = True
    return record, created


def _replay(record: IdempotencyRecord) -> Response:
    if record.status_code >= 400:
        response = ProblemResponse(
            record.response_body, status=record.status_code, content_type=PROBLEM_CONTENT_TYPE
        )
    else:
        response = Response(record.response_body, status=record.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(method):
    """Decorate a view's `post`: an `Idempotency-Key` makes its retries safe."""

    @wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            return problem(
                status_code=400,
                code="invalid_idempotency_key",
                title=_("The Idempotency-Key header is not valid."),
                detail=_("Use 1 to %(max)s printable ASCII characters, e.g. a UUID.")
                % {"max": IDEMPOTENCY_KEY_MAX_CHARS},
            )
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            record, created = _claim(
                scope=credential_scope(request), key=key, fingerprint=fingerprint
            )
            if not created:
                if record.request_hash != fingerprint:
                    return problem(
                        status_code=422,
                        code="idempotency_key_reused",
                        title=_("This Idempotency-Key was used for another request."),
                        detail=_("Send a new key for a new request."),
                    )
                return _replay(record)
            try:
                response = method(view, request, *args, **kwargs)
            except (HelpDeskError, APIException) as error:
                response = view.handle_exception(error)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response

    return wrapper


def idempotency_records_forget() -> int:
    """Delete the records older than API_IDEMPOTENCY_HOURS (hourly job); returns how many."""
    since = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=since).delete()
    return deleted
