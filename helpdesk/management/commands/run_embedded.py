"""The whole HelpDesk from one command, with no servers to install.

After `migrate` and `seed_demo`, two processes are started and watched:
- the web server (`manage.py runserver --noreload`),
- a Celery worker with the beat schedule embedded (`celery -A helpdesk worker --beat`),
both using Celery's file-based broker (`filesystem://`: messages are files under
HELPDESK_RUN_DIR), so points expire and e-mails go out (to the console) on schedule with SQLite
and without Redis. Ctrl-C or SIGTERM stops both; when either stops on its own, the other is
stopped too. Each child runs in its own process group, which is what gets stopped, so nothing
they started is left behind.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# How long the worker may take to finish its current task before it is killed.
STOP_TIMEOUT = 10
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when this command dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


class Command(BaseCommand):
    help = (
        "Run the whole HelpDesk on the embedded default: migrate, create demo users and data if "
        "missing, then serve on 127.0.0.1:8000 with a Celery worker running the beat schedule "
        "(file-based broker, no Redis needed). Ctrl-C stops everything."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        run_dir = Path(settings.HELPDESK_RUN_DIR)
        for folder in ("queue", "processed", "control"):
            (run_dir / "celery" / folder).mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=1)
        call_command("seed_demo")
        # Catch up at once with what expired while the HelpDesk was not running.
        call_command("expire_points")

        env = {**os.environ, "CELERY_BROKER_URL": "filesystem://", "HELPDESK_RUN_DIR": str(run_dir)}
        commands = {
            "web server": [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "runserver",
                "--noreload",
                addrport,
            ],
            "worker": [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "helpdesk",
                "worker",
                "--beat",
                "--schedule",
                str(run_dir / "celerybeat-schedule"),
                "--pool",
                "solo",
                "--hostname",
                "embedded@%h",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
        }

        stop_requested = []

        def request_stop(signum, frame):
            stop_requested.append(signum)

        previous_handlers = {
            signum: signal.signal(signum, request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        children: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            for name, command in commands.items():
                children[name] = subprocess.Popen(
                    command,
                    cwd=settings.BASE_DIR,
                    env=env,
                    # Out of the terminal's process group: Ctrl-C reaches this command only,
                    # which then stops the children in order.
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            self.stdout.write(
                f"HelpDesk running at http://{addrport}/ with a worker and the beat schedule. "
                "Press Ctrl-C to stop."
            )
            while not stop_requested:
                ended = [name for name, child in children.items() if child.poll() is not None]
                if ended:
                    self.stderr.write(f"The {ended[0]} stopped; stopping the HelpDesk.")
                    exit_code = 1
                    break
                time.sleep(0.2)
        finally:
            self._stop(children)
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
        if exit_code:
            sys.exit(exit_code)
        self.stdout.write("HelpDesk stopped.")

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGTERM each child's process group (a warm shutdown for the worker), then SIGKILL
        whatever is still there after STOP_TIMEOUT."""
        for child in children.values():
            self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in children.values():
            # The group may outlive its leader (e.g. the worker's embedded beat process).
            self._signal_group(child, signal.SIGKILL)
            child.wait()

    @staticmethod
    def _signal_group(child: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass
