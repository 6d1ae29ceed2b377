"""README's run command (`manage.py run_embedded`, what `make run` starts): the whole HelpDesk
on SQLite without Redis or PostgreSQL, with a worker running the beat schedule; SIGINT (Ctrl-C)
stops everything it started."""

import signal
import socket
import sqlite3
import subprocess
import urllib.request
from contextlib import closing

import psutil
import pytest

from tests.processes import PROJECT_ROOT, PYTHON, process_env, wait_for

# Makes the demo account's newest lot expire two seconds from now, and prints the lot's id.
SOON_EXPIRING_LOT = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import Account
from points.services import points_grant
account = Account.objects.order_by("id").first()
lot = points_grant(
    account=account, points=7, reason="expires soon", actor=None,
    expires_at=timezone.now() + timedelta(seconds=2),
)
print(lot.pk)
"""


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return 0


@pytest.fixture
def embedded(tmp_path):
    port = free_port()
    env = process_env(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        HELPDESK_RUN_DIR=str(tmp_path / "var"),
        # The expiry job every second instead of hourly.
        HELPDESK_EXPIRY_INTERVAL_SECONDS="1",
        REDIS_URL="redis://127.0.0.1:1/0",  # no Redis: nothing may need it
    )
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [PYTHON, "manage.py", "run_embedded", "--addrport", f"127.0.0.1:{port}"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, f"http://127.0.0.1:{port}", env, tmp_path / "db.sqlite3"
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
        process.wait()
        log.seek(0)
        print(log.read())
        log.close()


def test_the_embedded_run_serves_expires_points_on_schedule_and_stops_on_sigint(embedded):
    process, url, env, database = embedded

    def serving():
        """the pricing page is served"""
        assert process.poll() is None, "run_embedded exited"
        return get(f"{url}/support/pricing/") == 200

    wait_for(serving, timeout=60, interval=0.3)

    lot_id = int(
        subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", SOON_EXPIRING_LOT],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()[-1]
    )

    def expiry_recorded():
        """the scheduled job recorded the new lot's expiry"""
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)) as db:
            return db.execute(
                "SELECT amount FROM points_entry WHERE kind = 'expire' AND lot_id = ?", [lot_id]
            ).fetchall()

    assert wait_for(expiry_recorded, timeout=30, interval=0.5) == [(7,)]

    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2, "a web server and a worker"
    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=15) == 0
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
    assert get(f"{url}/support/pricing/") == 0
