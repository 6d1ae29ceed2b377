import os

import psycopg
import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = settings.BASE_DIR / "test-artifacts"


def pytest_sessionstart(session):
    """Stop at once with a clear message, not a traceback per test, when PostgreSQL is down."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    try:
        psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT']} as {db['USER']!r}: "
            f"{str(error).strip()}\nStart it (see README.md, 'Running the tests') and try again.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def browser(django_db_setup):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    serialized = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with sync_playwright() as playwright:
        # Playwright's sync API leaves an event loop running in this thread, so Django's
        # (context-local) connection handler hands out new connection objects from here on.
        # They must keep the migrated data that serialized_rollback restores before each test.
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot to test-artifacts/<name>.png, for people to look at."""

    def take(name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def pytest_collection_modifyitems(items):
    """Transactional tests start from the migrated data (catalog, groups, permissions) as the
    others do: each restores the database serialized after migrations (serialized_rollback).

    Without it a transactional test's flush re-creates content types and permissions, which then
    collide with the next serialized_rollback test's restore.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        fixtures = getattr(item, "fixturenames", ())
        transactional = (
            kwargs.get("transaction")
            or (marker is not None and bool(marker.args) and marker.args[0])
            or "live_server" in fixtures
            or "transactional_db" in fixtures
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache: the e-mail limits count there."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def staff_second_factor_given(request, monkeypatch):
    """`client.force_login(staff)` also gives the second factor, as if the code had been typed:
    admin tests stay about the admin. Tests of the second factor itself opt out with
    `@pytest.mark.second_factor_unverified` (or log in through the forms)."""
    if request.node.get_closest_marker("second_factor_unverified"):
        return
    from django.test import Client

    from tests.second_factor import mark_second_factor_given

    force_login = Client.force_login

    def force_login_with_second_factor(self, user, backend=None):
        force_login(self, user, backend)
        if user.is_staff:
            mark_second_factor_given(self, user)

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)
