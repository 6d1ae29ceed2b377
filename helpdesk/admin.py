from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from .forms import AdminUserChangeForm, AdminUserCreationForm
from .models import User
from .user_audit import group_change_record, group_snapshot, user_change_record, user_snapshot


class AuditedChangesMixin:
    """Every user or group saved in the admin leaves an audit record of what changed (taken after
    the many-to-many fields, groups and permissions, are saved too)."""

    snapshot = None
    record = None

    def save_model(self, request, obj, form, change):
        request.audit_before = type(self).snapshot(obj if change else None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        type(self).record(
            actor=request.user, before=request.audit_before, **{self.opts.model_name: form.instance}
        )


@admin.register(User)
class UserAdmin(AuditedChangesMixin, DjangoUserAdmin):
    snapshot = user_snapshot
    record = user_change_record
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    # Recorded by Django, not typed: a typed date near year 9999 would not survive the time zone.
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]

    def user_change_password(self, request, id, form_url=""):
        before = user_snapshot(self.get_object(request, id))
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user_change_record(actor=request.user, user=self.get_object(request, id), before=before)
        return response


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedChangesMixin, DjangoGroupAdmin):
    snapshot = group_snapshot
    record = group_change_record
