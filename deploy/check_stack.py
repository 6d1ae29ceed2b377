"""The production stack of docker-compose.yml, brought up and exercised as an operator would:
through the published web port and `exec` only. Run by deploy/check.sh (which prepares the
stage folder, the .env and the stand-in images, and tears the stack down whatever happens).

Standard library only: it runs on the host's Python. Every wait is bounded and says what it
waited for. Prints the figures it measured (build time, start to healthy, memory per service).
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
import subprocess
import sys
import time
from pathlib import Path

from browser import Browser

APP_SERVICES = ("web", "worker", "beat")
# Runs tar for the media volume's backup, like README's `docker run ... debian:bookworm tar`.
PYTHON_IMAGE = "docker.io/library/python:3.11-slim"
LONG_RUNNING = ("db", "redis", *APP_SERVICES)
CUSTOMER_PASSWORD = "Compose-check-" + secrets.token_hex(8)
STAFF_PASSWORD = "Compose-staff-" + secrets.token_hex(8)
STAFF_EMAIL = "operator@example.com"
ATTACHMENT = f"Uploaded by the compose check {secrets.token_hex(8)}.\n".encode()

# Facts read inside the web container; printed as one JSON line.
COUNTS = """
import json
from accounts.models import Account
from points.models import Entry, Lot, Order
from tickets.models import Ticket
print(json.dumps({
    "accounts": Account.objects.count(),
    "tickets": sorted(Ticket.objects.values_list("pk", flat=True)),
    "orders": sorted(Order.objects.values_list("pk", "status")),
    "lots": sorted(Lot.objects.values_list("pk", "points")),
    "entries": sorted(Entry.objects.values_list("pk", "kind", "amount")),
}))
"""
PACKAGE = """
from points.models import PointPackage
package, _ = PointPackage.objects.get_or_create(
    name="Compose check — 100 points", defaults={"points": 100, "price": "100.00"}
)
print(package.pk)
"""
# A lot of the customer's account expiring two seconds from now: beat's expiry job must record it.
SOON_EXPIRING_LOT = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import Account
from points.services import points_grant
account = Account.objects.get(name="Compose check customer")
lot = points_grant(
    account=account, points=7, reason="compose check: expires soon", actor=None,
    expires_at=timezone.now() + timedelta(seconds=2),
)
print(lot.pk)
"""
EXPIRED = """
from points.models import Entry
print(list(Entry.objects.filter(kind="expire", lot_id={lot}).values_list("amount", flat=True)))
"""


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[deploy-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(what: str, predicate, *, timeout: float, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Stack:
    def __init__(self, args):
        self.project = args.project
        self.stage = Path(args.stage)
        self.compose_command = [
            args.podman_compose,
            "--project-name",
            self.project,
            "--in-pod",
            "false",
            "--file",
            "docker-compose.yml",
            "--file",
            "compose.check.yml",
        ]
        self.base_url = f"http://127.0.0.1:{args.port}"
        self.image = args.image
        self.figures: dict[str, str] = {}

    def run(self, command: list[str], *, timeout: float = 120, check: bool = True, stdin=None):
        try:
            result = subprocess.run(
                command,
                cwd=self.stage,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as error:
            raise CheckFailed(f"timed out after {timeout}s: {' '.join(command)}") from error
        if check and result.returncode != 0:
            raise CheckFailed(
                f"exit {result.returncode}: {' '.join(command)}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def compose(self, *args: str, timeout: float = 300, check: bool = True, stdin=None):
        return self.run([*self.compose_command, *args], timeout=timeout, check=check, stdin=stdin)

    def manage(self, *args: str, timeout: float = 120) -> str:
        return self.compose(
            "exec", "-T", "web", "python", "manage.py", *args, timeout=timeout
        ).stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--command", code).strip().splitlines()[-1]

    def counts(self) -> dict:
        return json.loads(self.shell(COUNTS))

    def containers(self, service: str, *, every: bool = True) -> list[str]:
        result = self.run(
            [
                "podman",
                "ps",
                *(["--all"] if every else []),
                "--filter",
                f"label=io.podman.compose.project={self.project}",
                "--filter",
                f"label=com.docker.compose.service={service}",
                "--format",
                "{{.Names}}",
            ]
        )
        return sorted(result.stdout.split())

    def container(self, service: str) -> str:
        [name] = self.containers(service, every=False) or [None]
        if name is None:
            raise CheckFailed(f"no running container of {service}")
        return name

    def healthy(self, container: str) -> bool:
        # Podman without systemd does not schedule health checks: the check runs the container's
        # own health check itself (the one docker-compose.yml defines).
        return self.run(["podman", "healthcheck", "run", container], check=False).returncode == 0

    def wait_healthy(self, *services: str, timeout: float = 180) -> None:
        for service in services:
            for container in self.containers(service, every=False) or [f"<{service}>"]:
                wait_for(
                    f"{container} to be healthy",
                    lambda container=container: self.healthy(container),
                    timeout=timeout,
                    interval=3,
                )
        say(f"healthy: {', '.join(services)}")

    def logs(self, container: str) -> list[str]:
        result = self.run(["podman", "logs", container], timeout=60)
        return (result.stdout + result.stderr).splitlines()


def expect(condition, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def healthz(stack: Stack) -> int:
    return Browser(stack.base_url).get("/healthz")[0]


def start(stack: Stack) -> None:
    """Up in stages: Debian's podman 4.3 ignores `condition: service_healthy`, and fails to start
    a container whose dependency has dependencies of its own (`--requires`), so each stage is
    started without its dependencies (`--no-deps`) once the previous one is ready."""
    stack.compose("up", "--detach", "--no-build", "db", "redis", "mailcatcher")
    stack.wait_healthy("db", "redis", timeout=120)
    stack.compose("up", "--detach", "--no-build", "--no-deps", "migrate")
    [migrate] = stack.containers("migrate")

    def finished():
        state = stack.run(
            ["podman", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", migrate]
        ).stdout.split()
        return state if state[0] == "exited" else None

    state = wait_for("the migrate step to finish", finished, timeout=300)
    expect(state == ["exited", "0"], f"migrate exited 0, not {state}")
    stack.compose("up", "--detach", "--no-build", "--no-deps", *APP_SERVICES)
    stack.wait_healthy(*APP_SERVICES, timeout=240)


def bring_up(stack: Stack) -> None:
    started = time.monotonic()
    start(stack)
    stack.figures["start to healthy"] = f"{time.monotonic() - started:.0f} s"


def check_migrate_ran_once(stack: Stack) -> None:
    migrations = stack.containers("migrate")
    expect(len(migrations) == 1, f"one migrate container, not {migrations}")
    state = stack.run(
        ["podman", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", migrations[0]]
    ).stdout.split()
    expect(state == ["exited", "0"], f"migrate exited 0, not {state}")
    say("migrate ran once and exited 0")


def check_pages_and_static_files(stack: Stack) -> None:
    expect(healthz(stack) == 200, "/healthz answers 200")
    status, _, page = Browser(stack.base_url).get("/support/pricing/")
    expect(status == 200, f"the price list answers 200, not {status}")
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page)
    expect(stylesheets, "the price list links a stylesheet")
    status, _, stylesheet = Browser(stack.base_url).get(stylesheets[0])
    expect(status == 200 and "{" in stylesheet, f"{stylesheets[0]} is served (status {status})")
    say(f"/healthz 200; static file {stylesheets[0]} served")


def mails(stack: Stack) -> str:
    """What the SMTP catcher received, soft line breaks of quoted-printable undone."""
    text = "\n".join(stack.logs(stack.container("mailcatcher")))
    return re.sub(r"=\r?\n", "", text).replace("=3D", "=")


def sign_up(stack: Stack, email: str) -> Browser:
    customer = Browser(stack.base_url)
    status, url, _ = customer.post("/accounts/signup/", {"email": email})
    expect(status == 200 and url.endswith("/accounts/signup/sent/"), f"sign-up sent ({url})")
    link_pattern = re.compile(r"https?://[^/\s]+(/accounts/signup/[\w:.-]+/)")

    def link():
        received = mails(stack)
        return email in received and link_pattern.findall(received)

    path = wait_for("the sign-up e-mail at the SMTP catcher", link, timeout=120)[-1]
    status, url, page = customer.post(
        path,
        {
            "first_name": "Casey",
            "last_name": "Check",
            "account_name": "Compose check customer",
            "password1": CUSTOMER_PASSWORD,
            "password2": CUSTOMER_PASSWORD,
        },
    )
    expect(status == 200, f"sign-up finished (status {status} at {url})")
    if "/accounts/login/" in url:
        customer.post("/accounts/login/", {"username": email, "password": CUSTOMER_PASSWORD})
    status, url, _ = customer.get("/tickets/")
    expect(status == 200 and url.endswith("/tickets/"), f"the customer is logged in ({url})")
    say(f"customer {email} signed up over HTTP (the worker sent the link by SMTP)")
    return customer


def make_staff(stack: Stack) -> Browser:
    stack.compose(
        "exec",
        "-T",
        "--env",
        f"DJANGO_SUPERUSER_EMAIL={STAFF_EMAIL}",
        "--env",
        f"DJANGO_SUPERUSER_PASSWORD={STAFF_PASSWORD}",
        "web",
        "python",
        "manage.py",
        "createsuperuser",
        "--noinput",
    )
    staff = Browser(stack.base_url)
    status, url, page = staff.post(
        "/admin/login/?next=/admin/", {"username": STAFF_EMAIL, "password": STAFF_PASSWORD}
    )
    # Staff need a second factor: a new staff user sets up an authenticator before any admin page.
    expect(
        status == 200 and "/accounts/two-factor/setup/" in url,
        f"the admin asks a new staff user to set up two-factor sign-in ({url})",
    )
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', page)
    expect(secret is not None, "the set-up page shows the authenticator's secret as text")
    # Posted straight away: opening the set-up page again would start another authenticator.
    status, url, page = staff.request(
        "/accounts/two-factor/setup/", {"token": totp_code(secret.group(1)), "next": "/admin/"}
    )
    expect(
        status == 200 and "recovery" in page.lower(),
        f"the authenticator's code turned two-factor sign-in on ({url})",
    )
    status, url, _ = staff.get("/admin/")
    expect(status == 200 and url.endswith("/admin/"), f"staff logged in to the admin ({url})")
    say("staff user made with createsuperuser --noinput, set up two-factor, logged in to /admin/")
    return staff


def totp_code(secret: str, at: float | None = None) -> str:
    """The six digits an authenticator app shows for `secret` (RFC 6238: HMAC-SHA1, 30 s)."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return str((struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6).zfill(6)


def buy_points(stack: Stack, customer: Browser, staff: Browser) -> int:
    package = stack.shell(PACKAGE)
    status, url, _ = customer.post(
        "/communication-center/support-points/buy/", {"package": package}
    )
    order = re.search(r"/orders/(\d+)/", url)
    expect(status == 200 and order, f"the order is placed ({status} at {url})")
    order_id = int(order[1])
    status, url, page = staff.post(
        f"/admin/points/order/{order_id}/mark-paid/", {"payment_reference": "CHECK-BANK-1"}
    )
    expect(
        status == 200 and url.endswith(f"/admin/points/order/{order_id}/change/"),
        f"staff marked order {order_id} paid ({status} at {url})",
    )
    orders = dict(map(tuple, stack.counts()["orders"]))
    expect(orders.get(order_id) == "paid", f"order {order_id} is paid: {orders}")
    say(f"order {order_id} placed by the customer and marked paid by staff (manual backend)")
    return order_id


def attachment_of(customer: Browser, ticket_id: int) -> bytes | None:
    """The content of the ticket's first attachment, downloaded as the customer."""
    status, _, page = customer.get(f"/tickets/{ticket_id}/")
    links = re.findall(rf'href="(/tickets/{ticket_id}/attachments/\d+/)"', page)
    if status != 200 or not links:
        return None
    status, _, content = customer.get(links[0])
    return content.encode() if status == 200 else None


def file_ticket(stack: Stack, customer: Browser) -> int:
    status, _, page = customer.get("/tickets/new/")
    expect(status == 200, f"the new-ticket page answers 200, not {status}")
    fixed = re.findall(r'<option value="(\d+)"[^>]*>[^<]*— (\d+) points</option>', page)
    expect(fixed, "a fixed-price category to file under")
    category, price = fixed[0]
    status, url, page = customer.upload(
        "/tickets/new/",
        {
            "category": category,
            "subject": "The compose check files a ticket",
            "description": "Filed over HTTP through the published port.",
        },
        {"attachments": ("compose-check.txt", ATTACHMENT)},
    )
    ticket = re.search(r"/tickets/(\d+)/$", url)
    expect(status == 200 and ticket, f"the ticket is filed ({status} at {url})")
    ticket_id = int(ticket[1])
    expect(attachment_of(customer, ticket_id) == ATTACHMENT, "the attachment is downloadable")
    captured = [amount for _, kind, amount in stack.counts()["entries"] if kind == "capture"]
    expect(int(price) in captured, f"{price} points captured for the ticket: {captured}")
    say(f"ticket {ticket_id} filed over HTTP with an attachment; {price} points captured")
    return ticket_id


def check_beat_runs_the_schedule(stack: Stack) -> None:
    lot = stack.shell(SOON_EXPIRING_LOT)
    wait_for(
        "beat's expiry job to expire a lot (HELPDESK_EXPIRY_INTERVAL_SECONDS)",
        lambda: stack.shell(EXPIRED.replace("{lot}", lot)) == "[7]",
        timeout=120,
        interval=5,
    )
    say(f"beat's scheduled expiry job ran on a worker: lot {lot} expired")


def check_ledger(stack: Stack) -> None:
    output = stack.manage("check_ledger", timeout=180)
    say(f"check_ledger clean: {output.strip().splitlines()[-1] if output.strip() else 'ok'}")


def check_json_logs(stack: Stack, *, errors_allowed: bool) -> None:
    """Every line is a JSON object; before the database restart, none reports an error."""
    for service in APP_SERVICES:
        for container in stack.containers(service, every=False):
            lines = [line for line in stack.logs(container) if line.strip()]
            expect(lines, f"{container} logs something")
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                expect(isinstance(record, dict), f"{container} logs JSON lines, not: {line!r}")
                expect(
                    errors_allowed or record.get("level") not in ("ERROR", "CRITICAL"),
                    f"{container} logged an error: {line}",
                )
    say(
        "web, worker and beat log JSON objects, one per line"
        + ("" if errors_allowed else ", no error")
    )


def check_database_restart(stack: Stack, customer: Browser) -> None:
    before = stack.counts()
    database = stack.container("db")
    stack.run(["podman", "stop", "--time", "30", database])
    wait_for(
        "/healthz to answer 503 with the database down", lambda: healthz(stack) == 503, timeout=60
    )
    stack.run(["podman", "start", database])
    stack.wait_healthy("db", timeout=120)
    wait_for("/healthz to answer 200 again", lambda: healthz(stack) == 200, timeout=120)
    expect(customer.get("/tickets/")[0] == 200, "the customer's pages work after the restart")
    expect(stack.counts() == before, "nothing lost across the database restart")
    say("db restarted: /healthz 503 then 200; nothing lost")


def check_scaled_workers(stack: Stack) -> None:
    stack.compose(
        "up", "--detach", "--no-build", "--no-deps", "--scale", "worker=2", "worker", timeout=300
    )
    workers = wait_for(
        "two running worker containers",
        lambda: (
            len(stack.containers("worker", every=False)) == 2
            and stack.containers("worker", every=False)
        ),
        timeout=120,
    )
    stack.wait_healthy("worker", timeout=180)
    pong = stack.compose(
        "exec", "-T", "worker", "celery", "--app=helpdesk", "inspect", "ping", timeout=120
    ).stdout
    expect(pong.count("pong") == 2, f"two workers answer a ping:\n{pong}")
    say(f"--scale worker=2: {', '.join(workers)} both answer")


def check_backup_and_restore(stack: Stack, customer: Browser, ticket_id: int) -> None:
    before = stack.counts()
    backup = stack.stage / "backup.sql"
    dump = stack.compose("exec", "-T", "db", "pg_dump", "-U", "helpdesk", "helpdesk", timeout=300)
    backup.write_text(dump.stdout)
    expect("CREATE TABLE" in dump.stdout, "the dump holds the schema")
    # Everything gone, volumes included: the restore starts from an empty database.
    media = f"{stack.project}_media"
    stack.run(
        [
            "podman",
            "run",
            "--rm",
            "--volume",
            f"{media}:/media:ro",
            "--volume",
            f"{stack.stage}:/backup",
            PYTHON_IMAGE,
            "tar",
            "-C",
            "/media",
            "-czf",
            "/backup/media.tgz",
            ".",
        ],
        timeout=120,
    )
    # --remove-orphans: podman-compose's down leaves the containers --scale added otherwise.
    stack.compose("down", "--volumes", "--remove-orphans", timeout=300)
    expect(not stack.containers("db"), "down removed the database")
    stack.compose("up", "--detach", "--no-build", "db", "redis", "mailcatcher")
    stack.wait_healthy("db", "redis", timeout=120)
    with backup.open() as dump_file:
        stack.compose(
            "exec",
            "-T",
            "db",
            "psql",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "-U",
            "helpdesk",
            "--dbname",
            "helpdesk",
            "--output",
            "/dev/null",
            stdin=dump_file,
            timeout=300,
        )
    # A new media volume, labelled as compose labels its own (the tear-down finds it by label).
    stack.run(
        [
            "podman",
            "volume",
            "create",
            "--label",
            f"io.podman.compose.project={stack.project}",
            media,
        ]
    )
    stack.run(
        [
            "podman",
            "run",
            "--rm",
            "--volume",
            f"{media}:/media",
            "--volume",
            f"{stack.stage}:/backup:ro",
            PYTHON_IMAGE,
            "tar",
            "-C",
            "/media",
            "-xzf",
            "/backup/media.tgz",
        ],
        timeout=120,
    )
    start(stack)
    after = stack.counts()
    expect(after == before, f"the restore keeps every ticket and point:\n{before}\n{after}")
    check_ledger(stack)
    # Sessions live in the database: the customer is still logged in and sees the ticket.
    status, _, page = customer.get(f"/tickets/{ticket_id}/")
    expect(status == 200 and "The compose check files a ticket" in page, "the ticket is back")
    expect(attachment_of(customer, ticket_id) == ATTACHMENT, "the uploaded file is back")
    say(
        f"backup (pg_dump, media tarball) and restore into new volumes: {len(after['entries'])} "
        "journal entries and the uploaded file kept"
    )


def measure_memory(stack: Stack) -> None:
    names = {c: s for s in LONG_RUNNING for c in stack.containers(s, every=False)}
    result = stack.run(
        ["podman", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *names]
    )
    for line in result.stdout.splitlines():
        name, _, usage = line.partition(" ")
        stack.figures[f"memory {names.get(name, name)}"] = usage.split("/")[0].strip()


def image_id(stack: Stack) -> str:
    result = stack.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", stack.image], check=False
    )
    return result.stdout.strip()


def build(stack: Stack) -> None:
    previous = image_id(stack)
    started = time.monotonic()
    stack.compose("build", "web", timeout=900)
    stack.figures["build (compose build web)"] = f"{time.monotonic() - started:.0f} s"
    if previous and previous != image_id(stack):
        # The image of the previous run, now untagged: removed so that runs don't pile up.
        stack.run(["podman", "rmi", previous], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", required=True, help="folder with the compose files and .env")
    parser.add_argument("--project", required=True, help="the compose project name")
    parser.add_argument("--port", required=True, type=int, help="HELPDESK_PORT of the .env")
    parser.add_argument("--podman-compose", required=True)
    parser.add_argument("--image", required=True, help="HELPDESK_IMAGE of the .env")
    stack = Stack(parser.parse_args())
    started = time.monotonic()
    try:
        build(stack)
        bring_up(stack)
        check_migrate_ran_once(stack)
        measure_memory(stack)
        check_pages_and_static_files(stack)
        staff = make_staff(stack)
        customer = sign_up(stack, f"customer-{secrets.token_hex(4)}@example.com")
        buy_points(stack, customer, staff)
        ticket_id = file_ticket(stack, customer)
        check_beat_runs_the_schedule(stack)
        check_ledger(stack)
        check_json_logs(stack, errors_allowed=False)
        check_database_restart(stack, customer)
        check_scaled_workers(stack)
        check_json_logs(stack, errors_allowed=True)
        check_backup_and_restore(stack, customer, ticket_id)
    except CheckFailed as error:
        say(f"FAILED: {error}")
        return 1
    stack.figures["check (build to last step)"] = f"{time.monotonic() - started:.0f} s"
    for name, value in stack.figures.items():
        say(f"figure: {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
