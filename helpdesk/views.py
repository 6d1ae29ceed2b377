"""The project's own pages: home, the public price list, health, favicon, and choosing a password
by an e-mailed link."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from catalog.pricing import price_legend
from catalog.selectors import catalog_groups_active
from points.selectors import package_offers

from .auth import login_lock_lift
from .forms import PasswordResetRequestForm


def home(request):
    if request.user.is_authenticated:
        return redirect("tickets:list")
    return redirect("catalog:pricing")


@require_GET
def pricing(request):
    """The public price list: what a point costs in money (the ledger's packages), and what each
    category costs (the catalog). A page of the project: it shows two apps side by side."""
    groups = [group for group in catalog_groups_active() if group.active_categories]
    return render(
        request,
        "catalog/pricing.html",
        {
            "groups": groups,
            "offers": package_offers(),
            "legend": price_legend(),
            "hotrush_compensation": settings.HELPDESK_HOTRUSH_COMPENSATION,
        },
    )


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page's icon link says."""
    return redirect(static("img/favicon.svg"), permanent=True)


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers and compose: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


# --- Passwords --------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a password through an e-mailed link. It proves the mailbox, so it also lifts the
    login locks of the identity (see helpdesk.auth)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_lock_lift(form.user)
        return response
