"""/healthz tells load balancers and compose whether the web process can reach its database."""

import pytest
from django.db import OperationalError

from helpdesk import views


def test_healthz_is_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content.decode().strip() == "ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


class UnreachableDatabase:
    """Stands in for the connection when the database server is down."""

    def cursor(self):
        raise OperationalError("connection refused: is the server running on port 5432?")


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    monkeypatch.setattr(views, "connection", UnreachableDatabase())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert "database unavailable" in response.content.decode()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_only_answers_get(client, db, method):
    assert getattr(client, method)("/healthz").status_code == 405
