"""The second step of signing in (the code, or enrolment when staff have no authenticator yet)."""

from __future__ import annotations

from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import HelpDeskError

from . import services
from .forms import EnrolmentForm, SecondFactorForm
from .middleware import session_rekeyed
from .two_factor import (
    has_second_factor,
    second_factor_given,
    second_factor_needed,
    second_factor_pending,
)

ENROLMENT_DEVICE = "security_enrolment_device"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index") if request.user.is_staff else reverse("tickets:list")


def _signed_in_with(request, device) -> None:
    otp_login(request, device)
    second_factor_given(request)
    # A session that gained a factor gets a new key, as on login.
    old_key = request.session.session_key
    request.session.cycle_key()
    session_rekeyed(request, old_key)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code after the password. Wrong codes count toward the login lock-out."""
    owed = second_factor_pending(request) or (
        second_factor_needed(request.user) and not request.user.is_verified()
    )
    if not owed:
        return redirect(_next_url(request))
    if not has_second_factor(request.user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    credentials = {"username": request.user.email}
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST":
        if not AxesProxyHandler.is_allowed(request, credentials):
            return get_lockout_response(request, None, credentials)
        if form.is_valid():
            device = services.second_factor_verify(
                user=request.user, token=form.cleaned_data["token"]
            )
            if device is not None:
                _signed_in_with(request, device)
                return redirect(_next_url(request))
            form.add_error("token", _("That code is not right, or was used already."))
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return get_lockout_response(request, None, credentials)
    return render(request, "security/verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Set up an authenticator app: a QR code made here (no outside service) and the secret as
    text; a code from the app confirms it, then ten recovery codes are shown once.

    Replacing an authenticator takes a session that has given its second factor already.
    """
    verified = request.user.is_verified()
    if has_second_factor(request.user) and not verified:
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': _next_url(request)})}")
    form = EnrolmentForm(request.POST or None)
    device = None
    if request.method == "POST":
        device = TOTPDevice.objects.filter(
            pk=request.session.get(ENROLMENT_DEVICE), user=request.user, confirmed=False
        ).first()
        if device is None:
            return redirect(request.get_full_path())
        if form.is_valid():
            try:
                codes = services.totp_enrolment_confirm(
                    user=request.user, device=device, token=form.cleaned_data["token"]
                )
            except HelpDeskError as error:
                form.add_error("token", str(error))
            else:
                request.session.pop(ENROLMENT_DEVICE, None)
                _signed_in_with(request, device)
                return render(
                    request,
                    "security/recovery_codes.html",
                    {"codes": codes, "next": _next_url(request)},
                )
    if device is None:
        device = services.totp_enrolment_start(user=request.user)
        request.session[ENROLMENT_DEVICE] = device.pk
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_data_uri": qr.svg_data_uri(scale=5, border=2),
        "secret": _grouped(_base32_secret(device)),
    }
    return render(request, "security/setup.html", context)


@login_required
@require_http_methods(["POST"])
def recovery_codes_new(request):
    """New recovery codes from a session that gave its second factor; shown once."""
    if not request.user.is_verified():
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.path})}")
    codes = services.recovery_codes_issue(user=request.user)
    return render(
        request, "security/recovery_codes.html", {"codes": codes, "next": reverse("security")}
    )


def _base32_secret(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
