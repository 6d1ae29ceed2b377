"""Schemathesis against the live schema (/api/schema/ of the app under test): every operation,
a bounded number of generated requests each, with a customer's token (and an integration key for
the integration endpoints) over data that exists. No answer is a server error; every answer
conforms to the schema (status, content type, headers, body).

The schema declares no links between operations, so there is no stateful phase.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from api.services import api_token_create, integration_key_create
from points.services import points_grant
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    StaffUserFactory,
    TicketFactory,
    account_owner,
)

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def credentials(db):
    account = AccountFactory()
    points_grant(account=account, points=10_000, reason="schemathesis", actor=None)
    IssueCategoryFactory(points=10)
    PointPackageFactory()
    TicketFactory(account=account)
    _token, token = api_token_create(user=account_owner(account), name="schemathesis")
    _key, key = integration_key_create(
        name="schemathesis",
        created_by=StaffUserFactory(),
        can_read_accounts=True,
        can_manage_accounts=True,
        can_grant_points=True,
    )
    return {"customer": token, "integration": key}


def live_schema():
    """The schema the app serves at /api/schema/ (the same generator), calling the app itself."""
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    schema.app = get_wsgi_application()
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
    )
    return schema


schema = live_schema()


@pytest.fixture(autouse=True)
def wsgi_test_client(settings):
    """Schemathesis' WSGI client says `Host: localhost`; its requests are not throttled and, as
    with Django's test client, do not close the test's database connection when they end."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credential": "100000/min", "anonymous": "100000/min"},
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_and_never_fails(case, credentials):
    kind = "integration" if case.path.startswith("/api/v1/integration") else "customer"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {credentials[kind]}"},
        # Business rules refuse much that the schema allows (a category that does not exist);
        # and unknown query values are ignored rather than refused (a bad page_size).
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
