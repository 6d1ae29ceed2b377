"""The personal-token look-up's hand-written statement finds what the ORM query it stands for
finds, loads the user's membership and account with it, and runs on SQLite too."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, MembershipRole
from api.credentials import secret_hash
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from api.token_lookup import live_token_with_account
from tests.factories import AccountFactory, StaffUserFactory, UserFactory, account_owner
from tests.processes import PROJECT_ROOT, PYTHON, process_env

pytestmark = pytest.mark.django_db


def orm_lookup(hash_: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user__membership__account")
        .filter(secret_hash=hash_, revoked_at=None, user__is_active=True)
        .first()
    )


def fields(instance) -> dict | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def loaded(token: ApiToken | None) -> tuple:
    """Every field of the token, its user, the user's membership and account."""
    if token is None:
        return (None,)
    user = token.user
    membership = getattr(user, "membership", None)
    account = membership.account if membership else None
    return fields(token), fields(user), fields(membership), fields(account)


def token_of(user, name="script") -> str:
    _token, secret = api_token_create(user=user, name=name)
    return secret_hash(secret)


@pytest.fixture
def hashes() -> dict[str, str]:
    account = AccountFactory()
    owner = account_owner(account)
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    inactive = UserFactory()
    Membership.objects.create(account=account, user=inactive, role=MembershipRole.MEMBER)
    revoked = token_of(owner, "old")
    api_token_revoke(token=ApiToken.objects.get(secret_hash=revoked))
    found = {
        "owner": token_of(owner),
        "member": token_of(member),
        "without account": token_of(StaffUserFactory()),
        "inactive user": token_of(inactive),
        "revoked": revoked,
        "unknown": secret_hash("hdp_unknown"),
    }
    ApiToken.objects.filter(secret_hash=found["owner"]).update(last_used_at="2026-01-02T03:04Z")
    inactive.is_active = False
    inactive.save()
    return found


def test_it_finds_what_the_orm_finds(hashes):
    for who, hash_ in hashes.items():
        assert loaded(live_token_with_account(hash_)) == loaded(orm_lookup(hash_)), who
    assert live_token_with_account(hashes["owner"]).last_used_at.tzinfo is not None
    for refused in ("inactive user", "revoked", "unknown"):
        assert live_token_with_account(hashes[refused]) is None, refused


def test_the_user_membership_and_account_come_in_its_one_query(hashes):
    with CaptureQueriesContext(connection) as queries:
        token = live_token_with_account(hashes["member"])
        assert token.user.membership.account.name
        assert token.user.membership.user is token.user
        without = live_token_with_account(hashes["without account"])
        assert not hasattr(without.user, "membership")
    assert len(queries) == 2


SQLITE_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from api.credentials import secret_hash
from api.services import api_token_create
from api.token_lookup import live_token_with_account
from points.services import points_grant
from tests.factories import AccountFactory, TicketFactory, account_owner
account = AccountFactory()
points_grant(account=account, points=100, reason="r", actor=None)
points_grant(account=account, points=7, reason="r", actor=None)
TicketFactory(account=account, subject="Older")
TicketFactory(account=account, subject="On SQLite")
_token, secret = api_token_create(user=account_owner(account), name="script")
token = live_token_with_account(secret_hash(secret))
print(token.user.membership.account == account, token.created_at.tzinfo is not None)
client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")
first = client.get("/api/v1/tickets?page_size=1").json()
print([t["subject"] for t in first["results"] + client.get(first["next"]).json()["results"]])
first = client.get("/api/v1/statement?page_size=1").json()
print([e["amount"] for e in first["results"] + client.get(first["next"]).json()["results"]])
"""


def test_it_and_the_lists_run_on_sqlite(tmp_path):
    """The embedded run's database runs the look-up and the lists' statements (a cursor too)."""
    result = subprocess.run(
        [PYTHON, "-c", SQLITE_SCRIPT],
        cwd=PROJECT_ROOT,
        env=process_env(DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines() == [
        "True True",
        "['On SQLite', 'Older']",
        "[7, 100]",
    ]
