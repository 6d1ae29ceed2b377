"""Second factors in tests: a known authenticator for a user, its current code, and a session
marked as having given it (the central answer to "staff need a code" for admin tests)."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.two_factor import EXPECTED

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret


def authenticator(user) -> TOTPDevice:
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Test authenticator", "key": KEY}
    )
    return device


def current_code(device: TOTPDevice, *, ahead: int = 0) -> str:
    """The code the app shows now (`ahead` steps later: a code not used yet, since django-otp
    refuses a code twice)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return str(code).zfill(device.digits)


def mark_second_factor_given(client, user) -> None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.pop(EXPECTED, None)
    session.save()


def pass_second_factor(page, user) -> None:
    """In a browser on the code page after the password: type the user's current code."""
    page.wait_for_url("**/accounts/two-factor/**")
    device = authenticator(user)
    if "/setup/" in page.url:
        page.reload()
    page.get_by_label("Code").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
