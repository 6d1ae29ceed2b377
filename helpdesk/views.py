from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import FormView

from points.models import MembershipRole
from points.selectors import account_members
from points.services import (
    AccountError,
    account_invite_user,
    account_remove_user,
    account_sign_up,
)

from .decorators import customer_required
from .forms import InviteUserForm, SignupForm


def home(request):
    if request.user.is_authenticated:
        return redirect("tickets:list")
    return redirect("catalog:pricing")


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


class SignupView(FormView):
    template_name = "registration/signup.html"
    form_class = SignupForm
    success_url = reverse_lazy("points:overview")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = account_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            account_name=form.cleaned_data["account_name"],
        )
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, _("Welcome! Your HelpDesk account is ready."))
        return super().form_valid(form)


# --- Account users ----------------------------------------------------------------------------


@customer_required
@require_http_methods(["GET", "POST"])
def account_users(request):
    """Everyone sees who uses the account; the owner invites and removes secondary users."""
    account = request.account
    members = account_members(account=account)
    is_owner = any(m.user_id == request.user.pk and m.role == MembershipRole.OWNER for m in members)
    if request.method == "POST" and not is_owner:
        raise PermissionDenied
    form = InviteUserForm(request.POST or None) if is_owner else None
    if form is not None and form.is_bound and form.is_valid():
        try:
            user = account_invite_user(
                account=account, invited_by=request.user, **form.cleaned_data
            )
        except AccountError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request, _("An invitation was sent to %(email)s.") % {"email": user.email}
            )
            return redirect("account_users")
    context = {
        "account": account,
        "members": members,
        "form": form,
        "is_owner": is_owner,
        "MembershipRole": MembershipRole,
    }
    return render(request, "accounts/users.html", context)


@customer_required
@require_POST
def account_user_remove(request, pk):
    account = request.account
    membership = get_object_or_404(account.memberships.select_related("user"), user_id=pk)
    try:
        account_remove_user(account=account, user=membership.user, removed_by=request.user)
    except AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(email)s can no longer use this account.") % {"email": membership.user.email},
        )
    return redirect("account_users")


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The one-time link of an invitation: choose a password, then you are logged in."""

    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("tickets:list")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Welcome! Your password is set."))
        return response
