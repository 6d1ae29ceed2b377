"""The customer's orders of points: list, order a package (checkout through the configured
payment backend), and one order with what to do to pay it."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from points.models import Order
from points.payments import backend_named
from points.selectors import orders_for_account, packages_on_sale
from points.services import order_checkout

from .. import serializers as out
from ..idempotency import idempotent
from ..pagination import NewestFirstPagination
from .common import CustomerListView, CustomerView, problems


class PaymentSerializer(serializers.Serializer):
    backend = serializers.CharField()
    label = serializers.CharField()
    instructions = serializers.CharField(help_text="What the customer is told about paying.")
    staff_confirms = serializers.BooleanField(help_text="Staff mark the order paid by hand.")


class OrderWithPaymentSerializer(out.OrderSerializer):
    payment = serializers.SerializerMethodField()

    @extend_schema_field(PaymentSerializer)
    def get_payment(self, order):
        backend = backend_named(order.payment_backend)
        return {
            "backend": backend.name,
            "label": str(backend.label),
            "instructions": str(backend.notice),
            "staff_confirms": backend.staff_marks_paid,
        }


class OrderInput(serializers.Serializer):
    package = serializers.PrimaryKeyRelatedField(
        queryset=packages_on_sale(), help_text="A package on sale (see /packages)."
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="orders_list",
        responses={200: OrderWithPaymentSerializer(many=True), **problems(404)},
    )
)
class OrderListView(CustomerListView):
    """The account's orders, newest first."""

    serializer_class = OrderWithPaymentSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return orders_for_account(account=self.request.account)

    @extend_schema(
        operation_id="orders_create",
        request=OrderInput,
        responses={201: OrderWithPaymentSerializer, **problems(400, 409, 422)},
    )
    @idempotent
    def post(self, request):
        """Order a package: paid at once or waiting for the payment, as the backend says."""
        serializer = OrderInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_checkout(
            account=request.account,
            package=serializer.validated_data["package"],
            actor=request.user,
        )
        return Response(
            OrderWithPaymentSerializer(order).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:order", args=[order.pk])},
        )


class OrderDetailView(CustomerView):
    @extend_schema(
        operation_id="orders_retrieve",
        responses={200: OrderWithPaymentSerializer, **problems(404)},
    )
    def get(self, request, pk: int):
        """One order of the account."""
        try:
            order = orders_for_account(account=request.account).get(pk=pk)
        except Order.DoesNotExist as error:
            raise Http404(_("No such order.")) from error
        return Response(OrderWithPaymentSerializer(order).data)
