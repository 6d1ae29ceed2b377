"""Staff create integration keys (the secret is shown once, on the page after saving), revoke
them, and see personal tokens (revoke only); webhook subscriptions, and the deliveries with
their answers (re-send)."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, IntegrationKey, WebhookDelivery, WebhookEvent, WebhookSubscription
from .services import (
    api_token_revoke,
    integration_key_create,
    integration_key_revoke,
    webhook_delivery_resend,
    webhook_subscription_create,
)

PERMISSION_FIELDS = ("can_read_accounts", "can_manage_accounts", "can_grant_points")


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        *PERMISSION_FIELDS,
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at", *PERMISSION_FIELDS)
    list_select_related = ("created_by",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", *PERMISSION_FIELDS)
        return (
            "name",
            "prefix",
            *PERMISSION_FIELDS,
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        # A key's permissions are fixed when it is made: a changed need is a new key.
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, secret = integration_key_create(
            name=form.cleaned_data["name"],
            created_by=request.user,
            **{name: form.cleaned_data[name] for name in PERMISSION_FIELDS},
        )
        obj.pk = key.pk
        request.integration_key_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "key": obj,
            "secret": request.integration_key_secret,
            "title": _("The new integration key"),
        }
        return TemplateResponse(request, "admin/api/integrationkey/secret.html", context)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            integration_key_revoke(key=key)
        self.message_user(request, _("The keys are revoked."), messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, _("The tokens are revoked."), messages.SUCCESS)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "integration_key", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("integration_key",)
    readonly_fields = ("secret", "created_at")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["events"] = forms.MultipleChoiceField(
            choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
        )
        form.base_fields["integration_key"].queryset = IntegrationKey.objects.filter(
            revoked_at=None, can_read_accounts=True
        )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = webhook_subscription_create(
            integration_key=form.cleaned_data["integration_key"],
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
        )
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("subscription",)
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Re-send the selected deliveries"), permissions=["change"])
    def resend(self, request, queryset):
        for delivery in queryset:
            webhook_delivery_resend(delivery=delivery)
        self.message_user(request, _("The deliveries are queued again."), messages.SUCCESS)
