"""The staff admin site: its home page is the support dashboard, above the list of everything
in the admin, and third-party apps are labelled in plain words."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from core.admin import BoundedDateHierarchyMixin
from security.two_factor import staff_two_factor_required
from tickets.admin_dashboard import dashboard_sections

from .forms import AdminLoginForm

# App and model names as staff should read them: {app label: (name, {model: name})}.
PLAIN_LABELS = {
    "axes": (
        _("Sign-in security"),
        {
            "AccessAttempt": _("Login attempts (lock-outs)"),
            "AccessFailureLog": _("Failed logins"),
            "AccessLog": _("Logins and logouts"),
        },
    ),
}


class HelpDeskAdminSite(admin.AdminSite):
    site_header = _("HelpDesk staff")
    site_title = _("HelpDesk staff")
    index_title = _("Support work")
    index_template = "admin/helpdesk/index.html"
    # The customers' address field: one identity, one login lock-out (see helpdesk.auth).
    login_form = AdminLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list with a date drill-down, third-party ones included, refuses impossible
        dates instead of failing."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BoundedDateHierarchyMixin):
            admin_class = type(admin_class.__name__, (BoundedDateHierarchyMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        """Staff need their second factor as well as the password (every admin page, custom views
        included, asks this through `admin_view`)."""
        return super().has_permission(request) and (
            not staff_two_factor_required() or _verified(request.user)
        )

    def login(self, request, extra_context=None):
        """Staff who gave the password but not yet the code go to the code."""
        user = request.user
        if user.is_active and user.is_staff and not self.has_permission(request):
            next_url = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': next_url})}")
        return super().login(request, extra_context)

    def index(self, request, extra_context=None):
        context = {"dashboard": dashboard_sections(request), **(extra_context or {})}
        return super().index(request, context)

    def get_app_list(self, request, app_label=None):
        """Built when a template first reads it: `each_context` asks for it on every admin page,
        but only the index pages and the nav sidebar (off on the ticket queue and page) show it,
        and building it checks every model's permissions."""
        return SimpleLazyObject(lambda: self._plain_app_list(request, app_label))

    def _plain_app_list(self, request, app_label):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] in PLAIN_LABELS:
                app["name"], models = PLAIN_LABELS[app["app_label"]]
                for model in app["models"]:
                    model["name"] = models.get(model["object_name"], model["name"])
                app["models"].sort(key=lambda model: str(model["name"]))
        return sorted(app_list, key=lambda app: str(app["name"]).lower())


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
