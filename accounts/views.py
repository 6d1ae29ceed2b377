"""The customer pages of accounts: signing up (both steps), the account's users, and accepting
an invitation."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import FormView

from core.clients import client_ip
from core.errors import HelpDeskError

from .decorators import customer_required
from .forms import InviteUserForm, SignupFinishForm, SignupForm
from .models import MembershipRole
from .ratelimit import account_email_wait
from .selectors import account_members
from .services import (
    AccountError,
    SignupLinkInvalid,
    account_invite_user,
    account_remove_user,
    account_sign_up,
    account_sign_up_request,
    address_is_held,
    pending_invitation,
    signup_link_email,
)
from .signals import password_set_through_link

# The address of the sign-up in progress, for the "check your inbox" page.
SIGNUP_EMAIL_SESSION_KEY = "signup_email"
PASSWORD_BACKEND = "accounts.backends.AccountUserBackend"


# --- Signing up -------------------------------------------------------------------------------


class SignupView(FormView):
    """Sign-up, first step: the address. The answer is the same whether it is registered or not
    (see accounts.services.account_sign_up_request)."""

    template_name = "registration/signup.html"
    form_class = SignupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not account_email_wait(address=email, client_ip=client_ip(self.request)):
            account_sign_up_request(email=email)
        normalized = get_user_model().objects.normalize_email(email)
        self.request.session[SIGNUP_EMAIL_SESSION_KEY] = normalized
        return redirect("signup_sent")


@require_GET
def signup_sent(request):
    email = request.session.get(SIGNUP_EMAIL_SESSION_KEY)
    if email is None:
        return redirect("signup")
    context = {"email": email, "valid_hours": settings.ACCOUNT_SIGNUP_LINK_HOURS}
    return render(request, "registration/signup_sent.html", context)


class SignupFinishView(FormView):
    """Sign-up, second step, behind the e-mailed link: the account is created and its owner is
    logged in. The link works until it expires or the address has an account."""

    template_name = "registration/signup_finish.html"
    form_class = SignupFinishForm

    def dispatch(self, request, *args, token, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        try:
            self.email = signup_link_email(token)
        except SignupLinkInvalid:
            return self.link_unusable(expired=True)
        if address_is_held(self.email):
            return self.link_unusable(expired=False)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "email": self.email}

    def get_context_data(self, **kwargs):
        invitation = pending_invitation(self.email)
        return super().get_context_data(
            email=self.email, invited_to=invitation.account if invitation else None, **kwargs
        )

    def form_valid(self, form):
        try:
            user = account_sign_up(
                email=self.email,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                account_name=form.cleaned_data["account_name"],
            )
        except AccountError:
            return self.link_unusable(expired=False)
        login(self.request, user, backend=PASSWORD_BACKEND)
        messages.success(self.request, _("Welcome! Your HelpDesk account is ready."))
        return redirect("points:overview")

    def link_unusable(self, *, expired: bool):
        context = {"expired": expired, "valid_hours": settings.ACCOUNT_SIGNUP_LINK_HOURS}
        return render(self.request, "registration/signup_link_unusable.html", context)


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
            user = _invite(request, form.cleaned_data)
        except HelpDeskError as error:
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


def _invite(request, data: dict):
    """Invite within the account e-mail limits (see accounts.ratelimit); the owner is told when
    they can send again."""
    wait = account_email_wait(address=data["email"], client_ip=client_ip(request))
    if wait:
        minutes = math.ceil(wait / 60)
        raise AccountError(
            ngettext(
                "Several e-mails went to this address or were sent from your network recently. "
                "You can send the invitation again in %(minutes)d minute.",
                "Several e-mails went to this address or were sent from your network recently. "
                "You can send the invitation again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )
    return account_invite_user(account=request.account, invited_by=request.user, **data)


@customer_required
@require_POST
def account_user_remove(request, pk):
    account = request.account
    membership = get_object_or_404(account.memberships.select_related("user"), user_id=pk)
    user = membership.user
    email, invited = user.email, not user.has_usable_password()
    try:
        account_remove_user(account=account, user=user, removed_by=request.user)
    except HelpDeskError as error:
        messages.error(request, str(error))
        return redirect("account_users")
    if invited:
        done = _("The invitation to %(email)s was withdrawn.")
    else:
        done = _("%(email)s can no longer use this account.")
    messages.success(request, done % {"email": email})
    return redirect("account_users")


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The one-time link of an invitation: choose a password, then you are logged in. The link
    proves the mailbox, as a password reset does (see accounts.signals)."""

    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = PASSWORD_BACKEND
    success_url = reverse_lazy("tickets:list")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_set_through_link.send(sender=type(self), user=form.user)
        messages.success(self.request, _("Welcome! Your password is set."))
        return response
