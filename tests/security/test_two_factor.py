"""Two-factor sign-in: staff can't open any admin page with the password alone; enrolment,
codes, recovery codes, the lock-out and the audited reset."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import URLPattern, URLResolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent, AuditKind
from security.models import RecoveryCode, recovery_code_hash
from tests.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.second_factor import authenticator, current_code

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor_unverified]

ADMIN_LOGIN = "/admin/login/"


def log_in_with_password(client, user, url=ADMIN_LOGIN, next_url="/admin/"):
    return client.post(f"{url}?next={next_url}", {"username": user.email, "password": PASSWORD})


def enrol(client) -> list[str]:
    """Through the enrolment page: read the secret, type the app's code; the recovery codes."""
    page = client.get(reverse("two_factor_setup"))
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(confirmed=False)
    assert device.config_url.count(secret.replace(" ", "")) == 1
    code = str(totp(device.bin_key)).zfill(6)
    response = client.post(reverse("two_factor_setup"), {"token": code, "next": "/admin/"})
    assert response.status_code == 200
    return re.findall(r"<code>([0-9A-Z-]{19})</code>", response.content.decode())


def admin_paths(resolver=None, prefix="/admin/"):
    """Every admin URL, arguments filled with 1 (the object need not exist: the refusal comes
    first)."""
    patterns = (resolver or site).urls[0] if resolver is None else resolver.url_patterns
    for pattern in patterns:
        route = str(pattern.pattern)
        path = re.sub(r"<(?:\w+:)?(\w+)>", "1", route).lstrip("^").rstrip("$")
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from admin_paths(pattern, prefix + path)
        elif isinstance(pattern, URLPattern):
            yield prefix + path


def test_staff_with_the_password_alone_reach_no_admin_page(client):
    staff = StaffUserFactory(is_superuser=True)
    authenticator(staff)
    assert log_in_with_password(client, staff).status_code == 302

    paths = sorted(set(admin_paths()))
    assert len(paths) > 50 and "/admin/audit/auditevent/export.csv" in paths
    for path in paths:
        response = client.get(path)
        if path.rstrip("/") == "/admin/logout":
            continue
        assert response.status_code == 302, path
        assert response["Location"].startswith(("/accounts/two-factor/", "/admin/login/")), path
    # The same for a session that never got the mark (signed in before two-factor existed).
    client.force_login(staff)
    session = client.session
    session.pop("second_factor_expected")
    session.save()
    assert client.get("/admin/").status_code == 302


def test_a_staff_member_without_an_authenticator_is_taken_through_enrolment_first(client):
    staff = StaffUserFactory()

    response = log_in_with_password(client, staff)
    assert (
        client.get(response["Location"], follow=True)
        .redirect_chain[-1][0]
        .startswith("/accounts/two-factor/setup/")
    )
    page = client.get(reverse("two_factor_setup"))
    assert b'src="data:image/svg+xml' in page.content  # the QR code, made here
    assert b"otpauth" not in page.content.replace(b"data:image/svg+xml", b"")

    codes = enrol(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert stored == {recovery_code_hash(code) for code in codes}
    assert not any(code.replace("-", "") in h for code in codes for h in stored)
    assert client.get("/admin/").status_code == 200


def test_the_code_after_the_password_opens_the_admin_and_a_code_works_once(client):
    staff = StaffUserFactory()
    device = authenticator(staff)
    log_in_with_password(client, staff)
    code = current_code(device)

    response = client.post(reverse("two_factor_verify"), {"token": code, "next": "/admin/"})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    other = type(client)()
    log_in_with_password(other, staff)
    replay = other.post(reverse("two_factor_verify"), {"token": code, "next": "/admin/"})
    assert replay.status_code == 200 and b"not right" in replay.content
    assert other.get("/admin/").status_code == 302


def test_a_recovery_code_signs_in_once(client):
    staff = StaffUserFactory()
    log_in_with_password(client, staff)
    codes = enrol(client)
    client.logout()

    for attempt, expected in ((codes[3].lower().replace("-", " "), 302), (codes[3], 200)):
        log_in_with_password(client, staff)
        response = client.post(reverse("two_factor_verify"), {"token": attempt, "next": "/admin/"})
        assert response.status_code == expected
        client.logout()


def test_enrolment_cannot_replace_an_authenticator_without_its_code(client):
    staff = StaffUserFactory()
    device = authenticator(staff)
    log_in_with_password(client, staff)

    response = client.get(reverse("two_factor_setup"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?")
    assert list(TOTPDevice.objects.filter(user=staff)) == [device]


@override_settings(LOGIN_FAILURE_LIMIT=3, AXES_FAILURE_LIMIT=3)
def test_wrong_codes_count_toward_the_login_lock_out(client):
    staff = StaffUserFactory()
    device = authenticator(staff)
    log_in_with_password(client, staff)

    answers = [
        client.post(reverse("two_factor_verify"), {"token": "000000"}).status_code for _ in range(3)
    ]
    locked = client.post(reverse("two_factor_verify"), {"token": current_code(device)})

    assert answers[:2] == [200, 200] and answers[2] == 429
    assert locked.status_code == 429
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "token", ["", "x" * 10_000, "１２３４５６", "<script>", "0" * 24, "' OR 1=1 --"]
)
def test_malformed_codes_are_refused_without_error(client, token):
    staff = StaffUserFactory()
    authenticator(staff)
    log_in_with_password(client, staff)

    response = client.post(reverse("two_factor_verify"), {"token": token})

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_customers_without_two_factor_sign_in_with_the_password(client):
    customer = UserFactory()
    response = log_in_with_password(client, customer, "/accounts/login/", "/tickets/")
    assert response["Location"] == "/tickets/"
    assert client.get("/tickets/").status_code in (200, 403)


def test_a_customer_who_turned_it_on_gives_the_code_too(client):
    customer = UserFactory()
    device = authenticator(customer)
    log_in_with_password(client, customer, "/accounts/login/", "/tickets/")

    assert client.get("/tickets/")["Location"].startswith("/accounts/two-factor/?next=")
    client.post(reverse("two_factor_verify"), {"token": current_code(device)})
    assert client.get("/tickets/").status_code in (200, 403)


@override_settings(STAFF_TWO_FACTOR_REQUIRED=False)
def test_the_demo_setting_relaxes_it(client):
    staff = StaffUserFactory()
    log_in_with_password(client, staff)
    assert client.get("/admin/").status_code == 200


def test_reset_by_staff_with_the_permission_is_audited(client):
    lost_phone = StaffUserFactory()
    authenticator(lost_phone)
    lead = StaffUserFactory(is_superuser=True)
    authenticator(lead)
    log_in_with_password(client, lead)
    client.post(reverse("two_factor_verify"), {"token": current_code(authenticator(lead))})

    response = client.post(
        reverse("admin:helpdesk_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [lost_phone.pk, lead.pk]},
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=lost_phone).exists()
    assert TOTPDevice.objects.filter(user=lead).exists()  # not one's own
    event = AuditEvent.objects.get(kind=AuditKind.DEVICE_RESET)
    assert (event.actor, event.object_id) == (lead, str(lost_phone.pk))


def test_staff_without_the_permission_have_no_reset(client):
    staff = StaffUserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="change_user"))
    other = StaffUserFactory()
    authenticator(other)
    log_in_with_password(client, staff)
    client.post(reverse("two_factor_verify"), {"token": current_code(authenticator(staff))})

    client.post(
        reverse("admin:helpdesk_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [other.pk]},
    )

    assert TOTPDevice.objects.filter(user=other).exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.DEVICE_RESET).exists()
