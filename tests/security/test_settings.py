"""Two-factor sign-in for staff can be relaxed only with DEBUG on (the embedded demo)."""

from tests.helpdesk.test_settings import run

SETUP = "import django; django.setup(); from django.conf import settings; "


def test_staff_two_factor_cannot_be_turned_off_outside_debug():
    result = run(SETUP, SECRET_KEY="x" * 50, STAFF_TWO_FACTOR_REQUIRED="false")

    assert result.returncode != 0
    assert "STAFF_TWO_FACTOR_REQUIRED=false is refused outside DEBUG" in result.stderr


def test_the_demo_may_relax_it_and_production_requires_it_by_default():
    relaxed = run(
        SETUP + "print(settings.STAFF_TWO_FACTOR_REQUIRED)",
        DEBUG="true",
        STAFF_TWO_FACTOR_REQUIRED="false",
    )
    default = run(SETUP + "print(settings.STAFF_TWO_FACTOR_REQUIRED)", SECRET_KEY="x" * 50)

    assert relaxed.stdout.strip() == "False", relaxed.stderr
    assert default.stdout.strip() == "True", default.stderr
