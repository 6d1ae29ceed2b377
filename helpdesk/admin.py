from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp import admin as totp_admin

from core.errors import HelpDeskError
from security.services import two_factor_reset

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

    actions = ["reset_two_factor"]

    @admin.action(
        description=_("Reset two-factor sign-in (they set it up again)"),
        permissions=["reset_two_factor"],
    )
    def reset_two_factor(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                two_factor_reset(user=user, actor=request.user)
            except HelpDeskError as error:
                self.message_user(request, f"{user}: {error}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "Two-factor sign-in reset for %(count)d user.",
                    "Two-factor sign-in reset for %(count)d users.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    def has_reset_two_factor_permission(self, request):
        return request.user.has_perm("security.reset_two_factor")

    def user_change_password(self, request, id, form_url=""):
        before = user_snapshot(self.get_object(request, id))
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user_change_record(actor=request.user, user=self.get_object(request, id), before=before)
        return response


admin.site.unregister(Group)
# Authenticators are set up by their owner and removed only by the audited reset above: their
# secrets have no business in the admin.
admin.site.unregister(totp_admin.TOTPDevice)


@admin.register(Group)
class GroupAdmin(AuditedChangesMixin, DjangoGroupAdmin):
    snapshot = group_snapshot
    record = group_change_record
