"""The customer's reads: who am I, prices, the statement, lots and tickets.

Every read goes through a selector scoped to `request.account`: another account's ticket is a 404.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from catalog.selectors import catalog_groups_active
from points.models import EntryKind
from points.selectors import package_offers, points_summary
from tickets import selectors as ticket_selectors
from tickets.models import Attachment, Ticket, TicketStatus

from .. import serializers as out
from ..pagination import LotPagination, StatementPagination, TicketPagination
from ..selectors import lots_for_account, statement_for_account, ticket_rows_for_account
from .common import CustomerListView, CustomerView, problems


class MeView(CustomerView):
    """The user, their account and its balance."""

    @extend_schema(operation_id="me", responses={200: out.MeSerializer, **problems()})
    def get(self, request):
        membership = request.user.membership
        summary = points_summary(account=request.account)
        data = {
            "user": request.user,
            "account": request.account,
            "role": membership.role,
            "balance": summary,
        }
        return Response(out.MeSerializer(data).data)


class CategoryListView(CustomerView):
    """The issue categories a ticket can be filed under, with their prices."""

    @extend_schema(
        operation_id="categories_list",
        responses={200: out.CategorySerializer(many=True), **problems()},
    )
    def get(self, request):
        categories = [
            category for group in catalog_groups_active() for category in group.active_categories
        ]
        return Response(out.CategorySerializer(categories, many=True).data)


class PackageListView(CustomerView):
    """The packages of points on sale."""

    @extend_schema(
        operation_id="packages_list",
        responses={200: out.PackageSerializer(many=True), **problems()},
    )
    def get(self, request):
        return Response(out.PackageSerializer(package_offers(), many=True).data)


class StatementFilter(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="From this instant (inclusive).")
    until = serializers.DateTimeField(required=False, help_text="Before this instant.")
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)


@extend_schema_view(
    get=extend_schema(
        operation_id="statement_list",
        parameters=[StatementFilter],
        responses={200: out.EntrySerializer(many=True), **problems(400, 404)},
    )
)
class StatementView(CustomerListView):
    """The account's statement: every journal line, newest first (cursor-paginated)."""

    filter_class = StatementFilter
    serializer_class = out.EntrySerializer
    pagination_class = StatementPagination

    def get_queryset(self):
        return statement_for_account(account=self.request.account, **self.filters())


class LotFilter(serializers.Serializer):
    spendable = serializers.BooleanField(
        required=False, default=False, help_text="Only lots with points that can be spent now."
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="lots_list",
        parameters=[LotFilter],
        responses={200: out.LotSerializer(many=True), **problems(400, 404)},
    )
)
class LotListView(CustomerListView):
    """The account's lots of points, soonest expiry first."""

    filter_class = LotFilter
    serializer_class = out.LotSerializer
    pagination_class = LotPagination

    def get_queryset(self):
        at = timezone.now() if self.filters()["spendable"] else None
        return lots_for_account(account=self.request.account, spendable_at=at)


class TicketFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(ticket_selectors.ACTIVE, "not yet resolved"), *TicketStatus.choices],
        required=False,
    )
    q = serializers.CharField(
        required=False, max_length=200, help_text="Words of the subject, or a ticket number."
    )
    hide_closed = serializers.BooleanField(required=False, default=False)


def ticket_page_or_404(request, pk: int):
    try:
        return ticket_selectors.customer_ticket_page(
            account=request.account, user=request.user, ticket_id=pk
        )
    except Ticket.DoesNotExist as error:
        raise Http404(_("No such ticket.")) from error


@extend_schema_view(
    get=extend_schema(
        operation_id="tickets_list",
        parameters=[TicketFilter],
        responses={200: out.TicketListItemSerializer(many=True), **problems(400, 404)},
    )
)
class TicketListView(CustomerListView):
    """The account's tickets (every user's), latest activity first."""

    filter_class = TicketFilter
    serializer_class = out.TicketListItemSerializer
    pagination_class = TicketPagination

    def get_queryset(self):
        filters = self.filters()
        return ticket_rows_for_account(
            account=self.request.account,
            status=filters.get("status", ""),
            query=filters.get("q", ""),
            hide_closed=filters["hide_closed"],
        )


class TicketDetailView(CustomerView):
    """A ticket with its public thread, its points, quotes, cost changes and the actions the
    customer may take now."""

    @extend_schema(
        operation_id="tickets_retrieve",
        responses={200: out.TicketDetailSerializer, **problems(404)},
    )
    def get(self, request, pk: int):
        return Response(out.TicketDetailSerializer(ticket_page_or_404(request, pk)).data)


class AttachmentDownloadView(CustomerView):
    """A file attached to a public message of the ticket."""

    @extend_schema(
        operation_id="attachments_download",
        responses={
            (200, "application/octet-stream"): bytes,
            **problems(404),
        },
    )
    def get(self, request, ticket_pk: int, pk: int):
        try:
            attachment = ticket_selectors.attachment_for_user(
                user=request.user, ticket_id=ticket_pk, attachment_id=pk
            )
        except Attachment.DoesNotExist as error:
            raise Http404(_("No such attachment.")) from error
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
