"""What the customer endpoints answer, and what they accept.

Inputs carry the same bounds as the web forms; the services check them again (text, points,
attachments), and their refusals come back as problems.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from core.text import REASON_MAX_CHARS, validate_no_control_characters
from points.models import EntryKind, LotKind, OrderStatus, entry_available_change
from tickets.models import TicketOutcome, TicketStatus

# The actions a customer may take on a ticket, as the API names them (the policy's names).
CUSTOMER_ACTIONS = (
    "reply",
    "cancel",
    "remove_urgency",
    "accept_quote",
    "decline_quote",
    "ask_reconsideration",
    "rate",
)


# Date-times as every DateTimeField here renders them (ISO 8601 in the current time zone).
_datetime = serializers.DateTimeField().to_representation


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    available = serializers.IntegerField(help_text="Points that can be spent now.")
    captured = serializers.IntegerField(help_text="Points held for open tickets.")
    next_expiry_points = serializers.IntegerField()
    next_expiry_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    account = AccountSerializer()
    role = serializers.CharField()
    balance = BalanceSerializer()


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    group = serializers.CharField(source="group.name")
    pricing_kind = serializers.CharField()
    price_label = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)
    max_points = serializers.IntegerField(allow_null=True)
    hourly_rate = serializers.IntegerField(allow_null=True)
    capture_points = serializers.IntegerField(
        allow_null=True, help_text="Points captured when a ticket is filed; null: after a quote."
    )


class PackageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="package.id")
    name = serializers.CharField(source="package.name")
    points = serializers.IntegerField(source="package.points")
    price = serializers.DecimalField(source="package.price", max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="package.currency")
    price_per_point = serializers.DecimalField(max_digits=16, decimal_places=4)


# A statement line from a row of api.selectors.statement_for_account. The fields declare the
# schema; `to_representation` gives what they would, for less CPU (tests/api/test_list_rows.py
# compares the two). No docstring: it would become the schema's description.
class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    amount = serializers.IntegerField()
    available_change = serializers.SerializerMethodField()
    dated_at = serializers.DateTimeField(help_text="When it happened (an expiry: the lot's end).")
    recorded_at = serializers.DateTimeField(source="created_at")
    lot = serializers.IntegerField(source="lot_id")
    ticket = serializers.SerializerMethodField()
    order = serializers.IntegerField(source="order_id", allow_null=True)
    reason = serializers.CharField()

    def get_available_change(self, row) -> int:
        return entry_available_change(row["kind"], row["amount"])

    def get_ticket(self, row) -> int | None:
        return row["ticket_id"]

    def to_representation(self, row):
        return {
            "id": row["id"],
            "kind": row["kind"],
            "amount": row["amount"],
            "available_change": self.get_available_change(row),
            "dated_at": _datetime(row["dated_at"]),
            "recorded_at": _datetime(row["created_at"]),
            "lot": row["lot_id"],
            "ticket": self.get_ticket(row),
            "order": row["order_id"],
            "reason": row["reason"],
        }


class LotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LotKind.choices)
    points = serializers.IntegerField()
    remaining = serializers.IntegerField()
    acquired_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    order = serializers.IntegerField(source="order_id", allow_null=True)


class TicketSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    outcome = serializers.ChoiceField(choices=TicketOutcome.choices, allow_blank=True)
    category = serializers.IntegerField(source="category_id")
    category_name = serializers.CharField(source="category.name")
    is_urgent = serializers.BooleanField()
    quote_first = serializers.BooleanField()
    filed_by = serializers.EmailField(source="filed_by.email")
    created_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()


# A ticket of the list from a row of api.selectors.ticket_rows_for_account. The fields declare
# the schema; `to_representation` gives what they would, for less CPU (tests/api/test_list_rows.py
# compares the two). No docstring: it would become the schema's description.
class TicketListItemSerializer(TicketSummarySerializer):
    points = serializers.IntegerField(allow_null=True)
    points_status = serializers.CharField(allow_null=True)
    message_count = serializers.IntegerField()

    def to_representation(self, row):
        return {
            "id": row["id"],
            "subject": row["subject"],
            "status": row["status"],
            "outcome": row["outcome"],
            "category": row["category_id"],
            "category_name": row["category_name"],
            "is_urgent": row["is_urgent"],
            "quote_first": row["quote_first"],
            "filed_by": row["filed_by_email"],
            "created_at": _datetime(row["created_at"]),
            "last_activity_at": _datetime(row["last_activity_at"]),
            "points": row["points"],
            "points_status": row["points_status"],
            "message_count": row["message_count"],
        }


class HoldSerializer(serializers.Serializer):
    status = serializers.CharField()
    amount = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="Download (same credentials).")

    def get_url(self, attachment) -> str:
        message = attachment.message
        return reverse("api:attachment", args=[message.ticket_id, attachment.pk])


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.SerializerMethodField()
    is_from_staff = serializers.BooleanField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)

    def get_author(self, message) -> str:
        # Staff are shown by name only; customers by address (the account's own users).
        author = message.author
        return author.get_full_name() if message.is_from_staff else author.email


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    points = serializers.IntegerField()
    note = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class CostChangeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    old_points = serializers.IntegerField(allow_null=True)
    new_points = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class TicketDetailSerializer(TicketSummarySerializer):
    hold = HoldSerializer(allow_null=True)
    messages = MessageSerializer(many=True)
    quotes = QuoteSerializer(many=True)
    cost_changes = CostChangeSerializer(many=True)
    actions = serializers.SerializerMethodField(
        help_text="What the customer may do now (the services check again)."
    )
    first_response_due_at = serializers.DateTimeField(allow_null=True)

    def get_actions(self, page) -> dict[str, bool]:
        allowed = page.policy.allowed
        return {action: allowed[action] for action in CUSTOMER_ACTIONS}

    def to_representation(self, page):
        """`page` is a tickets.selectors.CustomerTicketPage."""
        data = TicketSummarySerializer(page.ticket, context=self.context).data
        data.update(
            hold=HoldSerializer(page.hold).data if page.hold else None,
            messages=MessageSerializer(page.messages, many=True).data,
            quotes=QuoteSerializer(page.quotes, many=True).data,
            cost_changes=CostChangeSerializer(page.cost_changes, many=True).data,
            actions=self.get_actions(page),
            first_response_due_at=self.fields["first_response_due_at"].to_representation(
                page.first_response_due
            ),
        )
        return data


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    package = serializers.IntegerField(source="package_id", allow_null=True)
    points = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    payment_backend = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class BoundedText(serializers.CharField):
    """Free text: bounded, without control characters (the forms' rules)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", REASON_MAX_CHARS)
        super().__init__(**kwargs)
        self.validators.append(validate_no_control_characters)
