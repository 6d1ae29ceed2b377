"""The customer's writes on tickets: filing (points captured as on the web, with the same
refusals), the thread (with attachments, multipart), and the ticket's actions.

Each view validates the shape of the input, calls the same `tickets.services` function the web
page calls, and lets its refusal through as a problem (api.problems).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from catalog.models import IssueCategory
from core.text import REASON_MAX_CHARS
from tickets import services

from .. import serializers as out
from ..idempotency import idempotent
from ..parsers import BoundedJSONParser
from ..serializers import BoundedText
from .common import CustomerView, problems
from .customer import TicketListView, ticket_page_or_404

SUBJECT_MAX_CHARS = 200


class WithAttachments(serializers.Serializer):
    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        help_text="Files (multipart/form-data); the web's limits of count, size and type apply.",
    )

    def validate_attachments(self, files):
        if len(files) > settings.HELPDESK_ATTACHMENT_MAX_COUNT:
            raise serializers.ValidationError(
                f"At most {settings.HELPDESK_ATTACHMENT_MAX_COUNT} files per message."
            )
        return files


class TicketFileInput(WithAttachments):
    category = serializers.PrimaryKeyRelatedField(
        queryset=IssueCategory.objects.active(), help_text="An active category's id."
    )
    subject = BoundedText(max_length=SUBJECT_MAX_CHARS)
    description = BoundedText(help_text="Markdown.")
    is_urgent = serializers.BooleanField(required=False, default=False, help_text="HotRush.")
    quote_first = serializers.BooleanField(required=False, default=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["description"].max_length = services.message_max_chars()
        return fields


class MessageInput(WithAttachments):
    body = BoundedText(help_text="Markdown.")

    def get_fields(self):
        fields = super().get_fields()
        fields["body"].max_length = services.message_max_chars()
        return fields


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class TicketsView(TicketListView):
    """The account's tickets: list them (GET), file one (POST)."""

    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="tickets_create",
        request={"application/json": TicketFileInput, "multipart/form-data": TicketFileInput},
        responses={201: out.TicketDetailSerializer, **problems(400, 409, 422)},
    )
    @idempotent
    def post(self, request):
        """File a ticket: its price is captured from the balance as on the web (409
        `insufficient_points` with `required` and `missing` when the balance is short)."""
        data = _validated(TicketFileInput, request)
        ticket = services.ticket_file(
            account=request.account,
            filed_by=request.user,
            category=data["category"],
            subject=data["subject"],
            description=data["description"],
            is_urgent=data["is_urgent"],
            quote_first=data["quote_first"],
            attachments=data["attachments"],
        )
        page = ticket_page_or_404(request, ticket.pk)
        return Response(
            out.TicketDetailSerializer(page).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:ticket", args=[ticket.pk])},
        )


class TicketMessagesView(CustomerView):
    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="tickets_messages_list",
        responses={200: out.MessageSerializer(many=True), **problems(404)},
    )
    def get(self, request, pk: int):
        """The ticket's public thread, oldest first."""
        page = ticket_page_or_404(request, pk)
        return Response(out.MessageSerializer(page.messages, many=True).data)

    @extend_schema(
        operation_id="tickets_messages_create",
        request={"application/json": MessageInput, "multipart/form-data": MessageInput},
        responses={201: out.MessageSerializer, **problems(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Reply on the ticket (a resolved ticket reopens within the reopen window)."""
        ticket = ticket_page_or_404(request, pk).ticket
        data = _validated(MessageInput, request)
        message = services.ticket_reply(
            ticket=ticket, author=request.user, body=data["body"], attachments=data["attachments"]
        )
        return Response(out.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ReconsiderationInput(serializers.Serializer):
    message = BoundedText(max_length=REASON_MAX_CHARS, help_text="Why.")


class RatingInput(serializers.Serializer):
    score = serializers.ChoiceField(choices=[1, 2, 3, 4, 5])
    comment = BoundedText(max_length=REASON_MAX_CHARS, required=False, allow_blank=True)


class TicketActionView(CustomerView):
    """One action of the customer on a ticket; answers the ticket as it is afterwards."""

    input_class: type[serializers.Serializer] | None = None

    def act(self, request, ticket, data: dict) -> None:
        raise NotImplementedError

    @idempotent
    def post(self, request, pk: int):
        ticket = ticket_page_or_404(request, pk).ticket
        data = _validated(self.input_class, request) if self.input_class else {}
        self.act(request, ticket, data)
        return Response(out.TicketDetailSerializer(ticket_page_or_404(request, pk)).data)


def _action(name: str, summary: str, input_class=None):
    return extend_schema(
        operation_id=f"tickets_{name}",
        summary=summary,
        request=input_class,
        responses={200: out.TicketDetailSerializer, **problems(400, 404, 409, 422)},
    )


class TicketCancelView(TicketActionView):
    @_action("cancel", "Cancel the ticket; its captured points come back.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_cancel(ticket=ticket, actor=request.user)


class TicketRemoveUrgencyView(TicketActionView):
    @_action("remove_urgency", "Drop HotRush before the ticket is assigned; the surcharge returns.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_remove_urgency(ticket=ticket, actor=request.user)


class TicketAcceptQuoteView(TicketActionView):
    @_action("accept_quote", "Accept the pending quote; its points are captured.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_accept_quote(ticket=ticket, actor=request.user)


class TicketDeclineQuoteView(TicketActionView):
    @_action("decline_quote", "Decline the pending quote; the ticket is cancelled at no cost.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_decline_quote(ticket=ticket, actor=request.user)


class TicketReconsiderView(TicketActionView):
    input_class = ReconsiderationInput

    @_action("reconsider", "Ask staff to reconsider the cost.", ReconsiderationInput)
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_request_reconsideration(
            ticket=ticket, actor=request.user, message=data["message"]
        )


class TicketRateView(TicketActionView):
    input_class = RatingInput

    @_action("rate", "Rate the support on a resolved ticket.", RatingInput)
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, ticket, data):
        services.ticket_rate(
            ticket=ticket,
            actor=request.user,
            score=data["score"],
            comment=data.get("comment", ""),
        )
