"""The vendor's systems (integration keys): find or create a buyer's account, add and remove its
users, grant points and adjust them, read any account's balance, statement and tickets.

What a key does is recorded as done by the staff member who created it (the journal's actor).
Each endpoint needs one permission of the key (`integration_permission`): missing, 403.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.models import Account, Membership, MembershipRole
from accounts.services import account_invite_user, account_remove_user
from core.numbers import BIGINT_MAX
from points.selectors import points_summary
from points.services import JOURNAL_REASON_MAX_CHARS, points_adjust, points_grant

from .. import serializers as out
from ..idempotency import idempotent
from ..pagination import StatementPagination, TicketPagination
from ..permissions import IntegrationPermission
from ..selectors import statement_for_account, ticket_rows_for_account
from ..serializers import BoundedText
from ..services import shop_account_find_or_create
from .common import IntegrationView, problems


class IntegrationAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    shop_customer_id = serializers.CharField(allow_null=True)
    owner_email = serializers.EmailField(allow_null=True)
    balance = out.BalanceSerializer()


def account_data(account: Account) -> dict:
    shop = getattr(account, "shop_customer", None)
    owner = account.memberships.filter(role=MembershipRole.OWNER).select_related("user").first()
    return IntegrationAccountSerializer(
        {
            "id": account.pk,
            "name": account.name,
            "shop_customer_id": shop.external_id if shop else None,
            "owner_email": owner.user.email if owner else None,
            "balance": points_summary(account=account),
        }
    ).data


def account_or_404(pk: int) -> Account:
    try:
        return Account.objects.select_related("shop_customer").get(pk=pk)
    except Account.DoesNotExist as error:
        raise Http404(_("No such account.")) from error


class AccountFindOrCreateInput(serializers.Serializer):
    shop_customer_id = serializers.CharField(
        required=False, default="", max_length=100, help_text="The shop's id of the customer."
    )
    email = serializers.EmailField(max_length=254, help_text="The owner's address.")
    name = BoundedText(max_length=200, required=False, default="", allow_blank=True)
    first_name = BoundedText(max_length=150, required=False, default="", allow_blank=True)
    last_name = BoundedText(max_length=150, required=False, default="", allow_blank=True)


class AccountFindOrCreateView(IntegrationView):
    integration_permission = "can_manage_accounts"

    @extend_schema(
        operation_id="integration_accounts_find_or_create",
        request=AccountFindOrCreateInput,
        responses={
            200: IntegrationAccountSerializer,
            201: IntegrationAccountSerializer,
            **problems(400, 409, 422),
        },
    )
    @idempotent
    def post(self, request):
        """The account of the shop's customer id, or of the owner's address; else a new account
        whose owner is invited by e-mail (201)."""
        data = AccountFindOrCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account, created = shop_account_find_or_create(
            external_id=values["shop_customer_id"],
            email=values["email"],
            account_name=values["name"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            created_by=request.user,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(account_data(account_or_404(account.pk)), status=code)


class AccountDetailView(IntegrationView):
    @extend_schema(
        operation_id="integration_accounts_retrieve",
        responses={200: IntegrationAccountSerializer, **problems(404)},
    )
    def get(self, request, pk: int):
        """An account with its owner and balance."""
        return Response(account_data(account_or_404(pk)))


class AccountUserInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    first_name = BoundedText(max_length=150, required=False, default="", allow_blank=True)
    last_name = BoundedText(max_length=150, required=False, default="", allow_blank=True)


class AccountUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    invitation_pending = serializers.BooleanField(
        help_text="Invited and not yet answered (no password chosen)."
    )


def account_user_data(membership: Membership) -> dict:
    user = membership.user
    return AccountUserSerializer(
        {
            "id": user.pk,
            "email": user.email,
            "role": membership.role,
            "invitation_pending": membership.role != MembershipRole.OWNER
            and not user.has_usable_password(),
        }
    ).data


class AccountUsersView(IntegrationView):
    integration_permission = "can_manage_accounts"

    @extend_schema(
        operation_id="integration_account_users_create",
        request=AccountUserInput,
        responses={201: AccountUserSerializer, **problems(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Invite a user to the account by e-mail (the invitation e-mail, as on the web); an
        unanswered invitation is sent again. The key's creator needs the Django permission
        accounts.add_membership."""
        account = account_or_404(pk)
        data = AccountUserInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = account_invite_user(account=account, invited_by=request.user, **data.validated_data)
        membership = Membership.objects.select_related("user").get(account=account, user=user)
        return Response(account_user_data(membership), status=status.HTTP_201_CREATED)


class AccountUserDetailView(IntegrationView):
    integration_permission = "can_manage_accounts"

    @extend_schema(
        operation_id="integration_account_users_destroy",
        responses={204: None, **problems(404, 409)},
    )
    def delete(self, request, pk: int, user_pk: int):
        """Remove a user of the account, or withdraw their invitation; the owner stays. The key's
        creator needs the Django permission accounts.delete_membership."""
        account = account_or_404(pk)
        membership = (
            Membership.objects.select_related("user")
            .filter(account=account, user_id=user_pk)
            .first()
        )
        if membership is None:
            raise Http404(_("No such user of this account."))
        account_remove_user(account=account, user=membership.user, removed_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GrantInput(serializers.Serializer):
    points = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    reason = BoundedText(max_length=JOURNAL_REASON_MAX_CHARS, help_text="E.g. the license sold.")
    expires_at = serializers.DateTimeField(
        required=False, default=None, help_text="Default: like purchased points."
    )


class AdjustmentInput(serializers.Serializer):
    points = serializers.IntegerField(
        min_value=-BIGINT_MAX, max_value=BIGINT_MAX, help_text="Positive adds, negative takes."
    )
    reason = BoundedText(max_length=JOURNAL_REASON_MAX_CHARS)


class GrantView(IntegrationView):
    integration_permission = "can_grant_points"

    @extend_schema(
        operation_id="integration_grants_create",
        request=GrantInput,
        responses={201: IntegrationAccountSerializer, **problems(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Grant points (with a reason); send an Idempotency-Key so a retry never grants twice."""
        account = account_or_404(pk)
        data = GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        points_grant(account=account, actor=request.user, **data.validated_data)
        return Response(account_data(account), status=status.HTTP_201_CREATED)


class AdjustmentView(IntegrationView):
    integration_permission = "can_grant_points"

    @extend_schema(
        operation_id="integration_adjustments_create",
        request=AdjustmentInput,
        responses={201: IntegrationAccountSerializer, **problems(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """A manual correction of the balance (with a reason)."""
        account = account_or_404(pk)
        data = AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        points_adjust(account=account, actor=request.user, **data.validated_data)
        return Response(account_data(account), status=status.HTTP_201_CREATED)


class IntegrationListView(ListAPIView):
    permission_classes = [IntegrationPermission]
    integration_permission = "can_read_accounts"


@extend_schema_view(
    get=extend_schema(
        operation_id="integration_statement_list",
        responses={200: out.EntrySerializer(many=True), **problems(404)},
    )
)
class AccountStatementView(IntegrationListView):
    """An account's statement, newest first."""

    serializer_class = out.EntrySerializer
    pagination_class = StatementPagination

    def get_queryset(self):
        return statement_for_account(account=account_or_404(self.kwargs["pk"]))


@extend_schema_view(
    get=extend_schema(
        operation_id="integration_tickets_list",
        responses={200: out.TicketListItemSerializer(many=True), **problems(404)},
    )
)
class AccountTicketsView(IntegrationListView):
    """An account's tickets, latest activity first."""

    serializer_class = out.TicketListItemSerializer
    pagination_class = TicketPagination

    def get_queryset(self):
        return ticket_rows_for_account(account=account_or_404(self.kwargs["pk"]))
