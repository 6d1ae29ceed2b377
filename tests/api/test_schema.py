"""The committed contract (docs/openapi.yaml) is what the code serves: a change of the API is a
reviewed diff of that file. Regenerate it with `make openapi`.
"""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_the_committed_schema_is_the_generated_one(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(generated), validate=True, fail_on_warn=True)
    assert yaml.safe_load(generated.read_text()) == yaml.safe_load(SCHEMA_FILE.read_text()), (
        "The API changed: regenerate docs/openapi.yaml (see this test's docstring)."
    )


def test_the_schema_is_served_without_credentials(anonymous):
    response = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"] == "3.1.0"


def test_the_reference_page_is_served_from_static_files(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
