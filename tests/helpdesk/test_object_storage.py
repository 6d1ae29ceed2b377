"""Attachments on an S3-compatible object store (FILE_STORAGE=s3), against a real S3 API server on
127.0.0.1 (moto's standalone server): a file uploaded through one web process is downloaded
through another, and downloads stay permission-checked."""

from __future__ import annotations

import re
import socket
import subprocess
import uuid
from contextlib import closing

import boto3
import pytest
import requests
from django.conf import settings

from tests.factories import AccountFactory, TicketFactory, account_owner
from tests.processes import PROJECT_ROOT, PYTHON, database_url_of_this_test, process_env, wait_for
from tickets.models import Attachment

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_KEY, SECRET_KEY = "testing-access-key", "testing-secret-key"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 API server on a free port of 127.0.0.1, for the tests of this module."""
    port = free_port()
    server = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(endpoint), timeout=30, interval=0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint):
    name = f"helpdesk-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=name)
    return s3, name


def storage_env(s3_endpoint: str, bucket_name: str) -> dict[str, str]:
    return {
        "FILE_STORAGE": "s3",
        "S3_BUCKET": bucket_name,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }


@pytest.fixture
def web_processes(s3_endpoint, bucket, tmp_path):
    """Two web servers on one database and one bucket, each with its own empty media folder."""
    _s3, bucket_name = bucket
    servers, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        env = process_env(
            DATABASE_URL=database_url_of_this_test(),
            # The test's key, so the sessions it makes are valid in both.
            SECRET_KEY=settings.SECRET_KEY,
            DEBUG="true",
            MEDIA_ROOT=str(tmp_path / f"media-{name}"),
            LOG_LEVEL="WARNING",
            **storage_env(s3_endpoint, bucket_name),
        )
        servers.append(
            subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "helpdesk.wsgi:application", "-b", f"127.0.0.1:{port}"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_for(lambda url=url: answers(f"{url}/healthz"), timeout=60, interval=0.3)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def session_of(client, user) -> requests.Session:
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return session


def test_a_file_uploaded_through_one_web_process_is_downloaded_through_another(
    client, web_processes, bucket, tmp_path
):
    first, second = web_processes
    s3, bucket_name = bucket
    ticket = TicketFactory()
    customer = session_of(client, account_owner(ticket.account))
    page = customer.get(f"{first}/tickets/{ticket.pk}/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    reply = customer.post(
        f"{first}/tickets/{ticket.pk}/reply/",
        data={"csrfmiddlewaretoken": csrf, "body": "The screenshot"},
        files={"attachments": ("screen.png", PNG, "image/png")},
        headers={"Referer": f"{first}/tickets/{ticket.pk}/"},
        allow_redirects=False,
        timeout=30,
    )

    assert reply.status_code == 302, reply.text[:500]
    attachment = Attachment.objects.get(message__ticket=ticket)
    stored = s3.list_objects_v2(Bucket=bucket_name)["Contents"]
    assert [item["Key"] for item in stored] == [f"media/{attachment.file.name}"]
    assert not any((tmp_path / "media-a").rglob("*.png"))  # nothing on the web host's disk

    download = customer.get(
        f"{second}/tickets/{ticket.pk}/attachments/{attachment.pk}/", timeout=30
    )

    assert download.status_code == 200
    assert download.content == PNG
    assert "attachment" in download.headers["Content-Disposition"]

    # Another account's customer, and nobody logged in, get nothing from either process.
    stranger = session_of(client, account_owner(AccountFactory()))
    for url in (first, second):
        path = f"{url}/tickets/{ticket.pk}/attachments/{attachment.pk}/"
        assert stranger.get(path, timeout=30).status_code == 404
        anonymous = requests.get(path, allow_redirects=False, timeout=30)
        assert anonymous.status_code == 302
        assert PNG not in anonymous.content


def test_the_storage_settings_read_the_environment(s3_endpoint):
    code = (
        "from django.core.files.storage import storages; s = storages['default'];"
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.location, s.file_overwrite)"
    )
    result = subprocess.run(
        [PYTHON, "-c", f"import django; django.setup(); {code}"],
        cwd=PROJECT_ROOT,
        env=process_env(
            DATABASE_URL="sqlite:///:memory:", **storage_env(s3_endpoint, "some-bucket")
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == ["S3Storage", "some-bucket", s3_endpoint, "media", "False"]


def test_an_unknown_file_storage_is_refused():
    result = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()"],
        cwd=PROJECT_ROOT,
        env=process_env(DATABASE_URL="sqlite:///:memory:", FILE_STORAGE="ftp"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "FILE_STORAGE must be 'local' or 's3'" in result.stderr
