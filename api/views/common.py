"""What every API view shares: the customer's and the integration's base classes, and the
problem responses every operation documents."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.views import APIView

from ..permissions import IntegrationPermission, IsCustomer
from ..problems import PROBLEM_CONTENT_TYPE

ProblemSerializer = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "code": serializers.CharField(help_text="Stable machine-readable code."),
        "errors": serializers.DictField(required=False, help_text="Per field (400)."),
        "required": serializers.IntegerField(required=False),
        "available": serializers.IntegerField(required=False),
        "missing": serializers.IntegerField(required=False),
    },
)


def problems(*codes: int) -> dict:
    """The problem responses of an operation: always 401, 403 and 429, plus `codes`."""
    return {
        (code, PROBLEM_CONTENT_TYPE): ProblemSerializer for code in sorted({401, 403, 429, *codes})
    }


class CustomerView(APIView):
    """An endpoint of a customer account: a personal token or the session; `request.account`."""

    permission_classes = [IsCustomer]


class CustomerListView(ListAPIView):
    """A cursor-paginated list of the customer's account, filtered by `filter_class` (query)."""

    permission_classes = [IsCustomer]
    filter_class: type

    def filters(self) -> dict:
        filters = self.filter_class(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filters.validated_data


class IntegrationView(APIView):
    """An endpoint of the vendor's systems: an integration key with `integration_permission`."""

    permission_classes = [IntegrationPermission]
    integration_permission = "can_read_accounts"


class NotFoundView(APIView):
    """Any other path under /api/: a 404 problem rather than the site's HTML page."""

    permission_classes = []
    authentication_classes = []
    throttle_classes = []
    schema = None

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise Http404

    get = post = put = patch = delete = head = options = http_method_not_allowed
