"""Errors as `application/problem+json` (RFC 9457).

Every answer that is not a success carries `type`, `title`, `status`, `detail` and `code`: the
stable code of the service that refused (`insufficient_points`, `transition_not_allowed`, …) or
of the API itself (`invalid_request`, `not_found`, `throttled`, …). Views let a service's
`HelpDeskError` through; it is turned into its problem here, in one place.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import HelpDeskError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:helpdesk:problem:"

# Refusals of what was asked (its values), as opposed to what the objects' state allows (409).
UNPROCESSABLE_CODES = {
    "invalid_text",
    "invalid_amount",
    "invalid_expiry",
    "invalid_reason",
    "reason_required",
    "name_required",
    "attachment_rejected",
    "cost_out_of_bounds",
    "invalid_events",
    "invalid_url",
    "email_required",
}
# Refusals of who asks (e.g. staff without the Django permission a service requires).
FORBIDDEN_CODES = {"not_owner"}
# A refusal's own facts a program needs, when the error has them.
EXTRA_MEMBERS = ("required", "available", "missing")


class ProblemResponse(Response):
    """Always JSON, whatever renderer the view negotiated (the schema view's is YAML)."""

    @property
    def rendered_content(self):
        self.accepted_renderer = JSONRenderer()
        self.accepted_media_type = PROBLEM_CONTENT_TYPE
        self.renderer_context = getattr(self, "renderer_context", None) or {}
        return super().rendered_content


def problem(*, status_code: int, code: str, title: str, detail: str = "", **members) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status_code,
        "detail": detail or title,
        "code": code,
        **members,
    }
    return ProblemResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def helpdesk_error_status(error: HelpDeskError) -> int:
    if error.code in FORBIDDEN_CODES:
        return status.HTTP_403_FORBIDDEN
    if error.code in UNPROCESSABLE_CODES:
        return status.HTTP_422_UNPROCESSABLE_ENTITY
    return status.HTTP_409_CONFLICT


def _helpdesk_problem(error: HelpDeskError) -> Response:
    members = {name: getattr(error, name) for name in EXTRA_MEMBERS if hasattr(error, name)}
    return problem(
        status_code=helpdesk_error_status(error),
        code=error.code,
        title=_("The request was refused."),
        detail=error.message,
        **members,
    )


def _api_code(error: exceptions.APIException) -> str:
    if isinstance(error, exceptions.ValidationError):
        return "invalid_request"
    if isinstance(error, exceptions.Throttled):
        return "throttled"
    codes = error.get_codes()
    return codes if isinstance(codes, str) else error.default_code


def problem_exception_handler(error, context):
    if isinstance(error, HelpDeskError):
        return _helpdesk_problem(error)
    if isinstance(error, Http404):
        error = exceptions.NotFound()
    elif isinstance(error, DjangoPermissionDenied):
        error = exceptions.PermissionDenied()
    response = exception_handler(error, context)
    if response is None:
        return None
    members = {}
    if isinstance(error, exceptions.ValidationError):
        title = _("The request is not valid.")
        detail = _("See `errors` for what is wrong with each field.")
        errors = (
            error.detail if isinstance(error.detail, dict) else {"non_field_errors": error.detail}
        )
        members["errors"] = errors
    else:
        title = str(error.default_detail)
        detail = str(error.detail)
    answer = problem(
        status_code=response.status_code,
        code=_api_code(error),
        title=title,
        detail=detail,
        **members,
    )
    for header, value in response.headers.items():
        if header.lower() in ("retry-after", "www-authenticate", "allow"):
            answer[header] = value
    return answer
