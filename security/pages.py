"""The account security page: two-factor sign-in, password, e-mail address, signed-in sessions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.ratelimit import account_email_wait
from core.errors import HelpDeskError
from core.request_context import current_client_address

from . import account_services, services
from .forms import CurrentPasswordForm, EmailChangeForm
from .two_factor import has_second_factor


def _page(request, *, email_form=None, disable_form=None, status=200):
    user = request.user
    context = {
        "two_factor_on": has_second_factor(user),
        "recovery_codes_left": services.recovery_codes_left(user=user),
        "email_form": email_form or EmailChangeForm(user=user),
        "disable_form": disable_form or CurrentPasswordForm(user=user),
        "sessions": account_services.sessions_of(user=user),
        "current_session": request.session.session_key,
    }
    return render(request, "security/page.html", context, status=status)


@login_required
@require_GET
def security_page(request):
    return _page(request)


@login_required
@require_POST
def email_change(request):
    form = EmailChangeForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, email_form=form, status=400)
    new_email = form.cleaned_data["new_email"]
    if account_email_wait(address=new_email, client_ip=current_client_address()):
        form.add_error(None, _("Too many e-mails were asked for. Try again later."))
        return _page(request, email_form=form, status=429)
    try:
        account_services.email_change_request(user=request.user, new_email=new_email)
    except HelpDeskError as error:
        form.add_error("new_email", str(error))
        return _page(request, email_form=form, status=400)
    messages.success(
        request,
        _("We sent a link to %(email)s: follow it to change your address.") % {"email": new_email},
    )
    return redirect("security")


@login_required
@require_GET
def email_change_confirm(request, token):
    try:
        user = account_services.email_change_confirm(user=request.user, token=token)
    except HelpDeskError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Your e-mail address is now %(email)s.") % {"email": user.email}
        )
    return redirect("security")


@login_required
@require_POST
def two_factor_off(request):
    form = CurrentPasswordForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, disable_form=form, status=400)
    try:
        services.two_factor_disable(user=request.user)
    except HelpDeskError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("security")


@login_required
@require_POST
def sessions_end_others(request):
    ended = account_services.sessions_end_others(
        user=request.user, keep_session_key=request.session.session_key
    )
    messages.success(request, _("Signed out of %(count)s other sessions.") % {"count": ended})
    return redirect("security")
