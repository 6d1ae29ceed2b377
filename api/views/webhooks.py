"""An integration's webhook subscriptions: list, subscribe a URL to events (the signing secret
is answered once), unsubscribe. The key needs *read all accounts* (the events are any account's).
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ..idempotency import idempotent
from ..models import WebhookEvent, WebhookSubscription
from ..services import webhook_subscription_create, webhook_subscription_deactivate
from .common import IntegrationView, problems


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class NewSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(help_text="Shown once: verify each delivery's X-Signature.")


class SubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text="A public http(s) URL.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=len(WebhookEvent.values),
    )


def _subscriptions(request):
    return WebhookSubscription.objects.filter(integration_key=request.auth, is_active=True)


class SubscriptionListView(IntegrationView):
    @extend_schema(
        operation_id="integration_webhooks_list",
        responses={200: SubscriptionSerializer(many=True), **problems()},
    )
    def get(self, request):
        """The key's active subscriptions."""
        return Response(SubscriptionSerializer(_subscriptions(request), many=True).data)

    @extend_schema(
        operation_id="integration_webhooks_create",
        request=SubscriptionInput,
        responses={201: NewSubscriptionSerializer, **problems(400, 409)},
    )
    @idempotent
    def post(self, request):
        """Subscribe a URL to events; deliveries are signed with the secret answered here."""
        data = SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(
            integration_key=request.auth, **data.validated_data
        )
        body = {**SubscriptionSerializer(subscription).data, "secret": subscription.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(IntegrationView):
    @extend_schema(
        operation_id="integration_webhooks_delete",
        responses={204: None, **problems(404)},
    )
    def delete(self, request, pk: int):
        """Unsubscribe: no more deliveries are made for this subscription."""
        subscription = _subscriptions(request).filter(pk=pk).first()
        if subscription is None:
            raise Http404(_("No such subscription."))
        webhook_subscription_deactivate(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
