"""The HelpDesk's pages side by side with stock django-helpdesk 2.6.1, alternating round by round.

    .venv/bin/python bench/web_pages.py --keep          # once: our data, kept as hd_webbench_tpl
    .venv/bin/python bench/peer.py --rounds 3           # their data (once), then both, alternating

1. django-helpdesk 2.6.1 from PyPI goes into a virtualenv of its own (bench/.peer/venv; never a
   dependency of the HelpDesk), with gunicorn and psycopg. A minimal project for it is written to
   bench/.peer/project following its install documentation (the apps it lists, SITE_ID, its URLs
   at the site's root, HELPDESK_TEAMS_MODE_ENABLED = False, which it needs to start without
   pinax-teams), on PostgreSQL (hd_peer), DEBUG off, persistent connections like ours.
2. Data of the same shape as bench/web_pages.py's (its defaults: 500 customers, 10,000 tickets of
   5 messages, a long tail of busy customers, 8 staff users), kept as hd_peer_tpl for --skip-data.
3. Sessions made as a login leaves them, and for each page pair its (session, path, expected
   text) list: our customer ticket page / their customer view-ticket page (`/view/?ticket=…`);
   our my tickets / their my-tickets JSON (`/api/user_tickets/`, what their page loads); our
   admin ticket page / their staff ticket page; our admin queue at 100 rows / their staff ticket
   list JSON (`datatables_ticket_list`, 10 rows: what their list page loads).
4. Each round starts our gunicorn, measures our pages, stops it, starts theirs (same options:
   `--workers` sync workers), measures theirs, stops it: both see the machine of the same few
   minutes. The measurement is bench/web_pages.py's (`measure`: 40 pairs checked over HTTP, every
   pair requested once to prime the caches (both sides alike; --cold-cache skips it), wrk
   warm-up, then wrk with CPU per request of the workers and of their PostgreSQL backends). Our
   server's cache is on Redis and emptied whenever it starts.
5. Summary: per pair, each round's req/s and the ratio, and the medians, with p99 and CPU per
   request.

The API's reads (issue 12) are pairs too: our ticket list and statement as JSON
(`/api/v1/tickets`, `/api/v1/statement`, a personal token per customer, measured by
bench/api.py's `measure`) against their my-tickets JSON, in the same alternating rounds.
`--pairs api` measures only those (their my-tickets JSON once a round); `--db-suffix` gives the
run working databases of its own (the templates are only read), so that it cannot collide with
another run of the bench on the same PostgreSQL.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import common
import web_pages

PEER_VERSION = "2.6.1"
PEER_DIR = Path(__file__).resolve().parent / ".peer"
PEER_VENV = PEER_DIR / "venv"
PEER_PROJECT = PEER_DIR / "project"
PEER_DB = "hd_peer"
PEER_TEMPLATE = "hd_peer_tpl"
OUR_DB = web_pages.DB
# Our page and theirs, and the target ratio (ours : theirs).
PAIRS = [
    ("customer ticket page", "their customer view-ticket", 3.0),
    ("my tickets", "their my-tickets JSON", 3.0),
    ("admin ticket page", "their staff ticket page", 3.0),
    ("admin ticket changelist (100 rows)", "their staff ticket list JSON (10 rows)", 3.0),
    ("API ticket list", "their my-tickets JSON", 3.0),
    ("API statement", "their my-tickets JSON", 3.0),
]
API_PAGES = {"API ticket list", "API statement"}
# And the API's own target, whatever the ratio.
API_TARGET_P99_MS = 100

SETTINGS = """
import os
SECRET_KEY = "bench-only-peer-secret-key-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.sites", "django.contrib.messages",
    "django.contrib.staticfiles", "django.contrib.humanize", "rest_framework", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug", "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB"],
    "HOST": os.environ["PEER_PGHOST"], "PORT": os.environ["PEER_PGPORT"],
    "USER": os.environ["PEER_PGUSER"], "CONN_MAX_AGE": 60,
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
HELPDESK_TEAMS_MODE_ENABLED = False
"""

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("", include("helpdesk.urls"))]
"""

# Runs inside the peer's virtualenv: their models, bulk-created like our bench's data.
GENERATE = """
import json, random, sys
from datetime import timedelta
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from helpdesk.models import FollowUp, Queue, Ticket, UserSettings

customers, tickets, messages = (int(x) for x in sys.argv[1:4])
rng = random.Random(20240601)
User = get_user_model()
hashed = User(username="x")
hashed.set_password("bench-password-not-a-secret")
staff = User.objects.bulk_create(
    User(username=f"agent{i}", email=f"agent{i}@example.com", is_staff=True,
         password=hashed.password) for i in range(8))
people = User.objects.bulk_create(
    User(username=f"customer{i}", email=f"customer{i}@example.com", password=hashed.password)
    for i in range(customers))
# What their post_save signal makes for each new user (bulk_create sends none).
UserSettings.objects.bulk_create(UserSettings(user=user) for user in [*staff, *people])
queue = Queue.objects.create(title="Support", slug="support", email_address="s@example.com")
# A long tail: a few busy customers, many quiet ones (as bench/web_pages.py spreads tickets).
weights = [1 / (i + 1) ** 0.8 for i in range(customers)]
owners = rng.choices(people, weights=weights, k=tickets)
now = timezone.now()
rows = []
for i, owner in enumerate(owners):
    created = now - timedelta(minutes=tickets - i)
    rows.append(Ticket(
        title=f"Problem number {i} of {owner.username}", queue=queue, created=created,
        modified=created, submitter_email=owner.email, status=rng.choice([1, 2, 3, 4]),
        description="The site is down since this morning. " * 5, priority=3,
        assigned_to=rng.choice(staff)))
rows = Ticket.objects.bulk_create(rows, batch_size=2000)
body = "Thank you for the details. **Could you** send the log lines around the error?\\n" * 4
followups = []
for ticket in rows:
    for m in range(messages):
        followups.append(FollowUp(
            ticket=ticket, date=ticket.created + timedelta(minutes=m + 1), title="Reply",
            comment=body, public=True, user=ticket.assigned_to if m % 2 == 0 else None))
    if len(followups) > 5000:
        FollowUp.objects.bulk_create(followups)
        followups = []
FollowUp.objects.bulk_create(followups)
print(json.dumps({"customers": customers, "tickets": len(rows), "followups": len(rows) * messages}))
"""

SESSIONS = """
import json, random, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from helpdesk.models import Ticket
from helpdesk.query import query_to_base64

sessions = int(sys.argv[1])
rng = random.Random(20240602)
User = get_user_model()

def login(user):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key

by_email = {}
newest_first = Ticket.objects.order_by("-id").values_list("id", "submitter_email", "title")
for tid, email, title in newest_first:
    by_email.setdefault(email, []).append((tid, title))
customers = [u for u in User.objects.filter(is_staff=False) if u.email in by_email]
pages = {"their customer view-ticket": [], "their my-tickets JSON": [],
         "their staff ticket page": [], "their staff ticket list JSON (10 rows)": []}
for user in rng.sample(customers, min(sessions, len(customers))):
    key = login(user)
    own = by_email[user.email]
    for tid, title in rng.sample(own, min(10, len(own))):
        pages["their customer view-ticket"].append(
            (key, f"/view/?ticket=support-{tid}&email={user.email}", [title]))
    pages["their my-tickets JSON"].append((key, "/api/user_tickets/", [f'"id":{own[0][0]}']))
query = query_to_base64({"filtering": {"status__in": [1, 2]}, "filtering_null": {},
    "sorting": "created", "sortreverse": False, "search_string": ""})
agents = list(User.objects.filter(is_staff=True).order_by("id"))
keys = [login(agent) for agent in agents]
everything = list(Ticket.objects.values_list("id", "title"))
sample = rng.sample(everything, min(2000, len(everything)))
for i, (tid, title) in enumerate(sample):
    pages["their staff ticket page"].append((keys[i % len(keys)], f"/tickets/{tid}/", [title]))
for key in keys:
    pages["their staff ticket list JSON (10 rows)"].append(
        (key, f"/datatables_ticket_list/{query}?draw=1&start=0&length=10", ['"recordsTotal"']))
print(json.dumps(pages))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--cold-cache", action="store_true", help="no priming pass (see bench/web_pages.py)"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep-alive", action="store_true")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--skip-data", action="store_true", help="reuse hd_peer_tpl")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--pairs", choices=["all", "pages", "api"], default="all", help="which pairs to measure"
    )
    parser.add_argument("--only", default="", help="only the pairs whose page name contains this")
    parser.add_argument(
        "--db-suffix", default="", help="suffix of the working databases (e.g. _mine)"
    )
    return parser.parse_args()


def load_api_bench():
    """bench/api.py, by path: as `api` it would shadow the HelpDesk's api app."""
    spec = importlib.util.spec_from_file_location("api_bench", Path(__file__).with_name("api.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def selected_pairs(choice: str) -> list[tuple[str, str, float]]:
    if choice == "all":
        return PAIRS
    api = choice == "api"
    return [pair for pair in PAIRS if (pair[0] in API_PAGES) == api]


def unique(names) -> list[str]:
    return list(dict.fromkeys(names))


def peer_python() -> Path:
    """The peer's virtualenv, made and filled on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"Installing django-helpdesk {PEER_VERSION} into {PEER_VENV} ...", flush=True)
        venv.create(PEER_VENV, with_pip=True)
    found = subprocess.run(
        [python, "-c", "import helpdesk, gunicorn, psycopg; print(helpdesk.__file__)"],
        capture_output=True,
    )
    if found.returncode != 0:
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"django-helpdesk=={PEER_VERSION}", "gunicorn", "psycopg[binary]"],
            check=True,
        )  # fmt: skip
    PEER_PROJECT.mkdir(parents=True, exist_ok=True)
    (PEER_PROJECT / "peer_settings.py").write_text(SETTINGS)
    (PEER_PROJECT / "peer_urls.py").write_text(URLS)
    return python


def peer_env(dbname: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env.update(
        DJANGO_SETTINGS_MODULE="peer_settings",
        PYTHONPATH=str(PEER_PROJECT),
        PEER_DB=dbname,
        PEER_PGHOST=common.PG_HOST,
        PEER_PGPORT=str(common.PG_PORT),
        PEER_PGUSER=common.PG_USER,
    )
    return env


def run_peer(python: Path, code: str, *args: str) -> str:
    result = subprocess.run(
        [python, "-c", code, *map(str, args)],
        env=peer_env(PEER_DB),
        cwd=PEER_PROJECT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"peer command failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare_peer(python: Path, args) -> list[web_pages.Page]:
    if args.skip_data:
        common.create_database(PEER_DB, template=PEER_TEMPLATE)
    else:
        common.create_database(PEER_DB)
        print("\nTheir data: migrate, generate ...", flush=True)
        manage = "import sys; from django.core.management import execute_from_command_line as m; "
        manage += "m(sys.argv)"
        run_peer(python, manage, "migrate", "--noinput", "-v0")
        print("  " + run_peer(python, GENERATE, args.customers, args.tickets, args.messages))
        with common.connect(PEER_DB) as conn:
            conn.execute("VACUUM ANALYZE")
        common.create_database(PEER_TEMPLATE, template=PEER_DB)
    pages = json.loads(run_peer(python, SESSIONS, args.sessions))
    return [
        web_pages.Page(name, None, None, [tuple(p) for p in pairs]) for name, pairs in pages.items()
    ]


def start_peer(python: Path, args, log: Path):
    port = web_pages.free_port()
    command = [
        str(python), "-m", "gunicorn", "django.core.wsgi:get_wsgi_application()",
        f"--bind=127.0.0.1:{port}", f"--workers={args.workers}", "--worker-class=sync",
        "--timeout=60", "--log-level=warning", f"--error-logfile={log}",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=peer_env(PEER_DB), cwd=PEER_PROJECT)
    web_pages.wait_until_serving(server, port, "/login/", log)
    return server, port


def run_figures(run: dict) -> str:
    if "rps" not in run:
        return "not measured"
    worker, postgres = run["worker_cpu_ms_per_request"], run["postgres_cpu_ms_per_request"]
    return (
        f"{run['rps']:.0f} req/s p99 {run['p99_us'] / 1000:.0f} ms "
        f"CPU {worker:.1f} (worker) + {postgres:.1f} (postgres) ms/req"
    )


def main() -> int:
    global PEER_DB, OUR_DB
    args = parse_args()
    if args.db_suffix:
        PEER_DB, OUR_DB = PEER_DB + args.db_suffix, OUR_DB + args.db_suffix
        web_pages.DB = OUR_DB
    pairs = [pair for pair in selected_pairs(args.pairs) if args.only in pair[0]]
    web_pages.ensure_wrk()
    print("Machine:")
    common.print_machine_info()
    python = peer_python()
    with common.connect() as conn:
        if (
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [web_pages.TEMPLATE]
            ).fetchone()
            is None
        ):
            sys.exit(f"no {web_pages.TEMPLATE}: run bench/web_pages.py --keep first")
    common.create_database(web_pages.DB, template=web_pages.TEMPLATE)
    workdir = Path(tempfile.mkdtemp(prefix="hd-peer-"))
    env = web_pages.environment(str(workdir / "static"))
    common.django_setup(web_pages.DB)
    common.migrate()
    ours = {page.name: page for page in web_pages.make_pages(args)}
    api_bench = load_api_bench()
    api_requests = api_bench.make_requests(args, workdir, with_writes=False)
    web_pages.collectstatic(env)
    from django.db import connections

    connections.close_all()
    theirs = {page.name: page for page in prepare_peer(python, args)}
    for page in [*ours.values(), *theirs.values()]:
        if page.name not in {name for pair in pairs for name in pair[:2]}:
            continue
        page.pairs_file = workdir / f"{page.name.replace(' ', '_')}.pairs"
        page.pairs_file.write_text("".join(f"{k}\t{p}\n" for k, p, _t in page.pairs))

    runs: dict[str, list[dict]] = {}
    for round_number in range(1, args.rounds + 1):
        print(f"\nRound {round_number}/{args.rounds}: ours", flush=True)
        server, port, _config = web_pages.start_server(env, "sync", args, workdir / "ours.log")
        try:
            for mine in unique(pair[0] for pair in pairs):
                if mine in API_PAGES:
                    run = api_bench.measure(server, port, mine, api_requests[mine], args)
                else:
                    page = ours[mine]
                    run = web_pages.measure(server, port, page, page.pairs_file, args)
                runs.setdefault(mine, []).append(run)
        finally:
            web_pages.stop_server(server)
        print(f"Round {round_number}/{args.rounds}: theirs", flush=True)
        server, port = start_peer(python, args, workdir / "theirs.log")
        # The CPU of the PostgreSQL backends is read for the bench's database: theirs now.
        web_pages.DB = PEER_DB
        try:
            for their in unique(pair[1] for pair in pairs):
                page = theirs[their]
                run = web_pages.measure(server, port, page, page.pairs_file, args)
                runs.setdefault(their, []).append(run)
        finally:
            web_pages.DB = OUR_DB
            web_pages.stop_server(server)

    results = {name: [run.get("rps", 0.0) for run in rows] for name, rows in runs.items()}
    print("\nSummary (req/s per round; ratio = ours : theirs in the same round):")
    summary = []
    for mine, their, target in pairs:
        ratios = [o / t if t else 0.0 for o, t in zip(results[mine], results[their], strict=True)]
        median = statistics.median(ratios)
        summary.append({"ours": mine, "theirs": their, "ours_rps": results[mine],
                        "theirs_rps": results[their], "ratios": ratios, "median_ratio": median,
                        "target": target})  # fmt: skip
        rounds = ", ".join(
            f"{o:.0f}/{t:.0f}={r:.2f}"
            for o, t, r in zip(results[mine], results[their], ratios, strict=True)
        )
        verdict = "MET" if median >= target else "MISSED"
        print(f"  {mine} vs {their}: {rounds}; median {median:.2f} (target {target}×: {verdict})")
        for name in (mine, their):
            print(f"    {name}: " + "; ".join(run_figures(run) for run in runs[name]))
    for name in unique(pair[0] for pair in pairs if pair[0] in API_PAGES):
        p99 = max(run.get("p99_us", float("inf")) for run in runs[name]) / 1000
        verdict = "MET" if p99 < API_TARGET_P99_MS else "MISSED"
        print(f"  {name}: worst p99 {p99:.1f} ms (target < {API_TARGET_P99_MS} ms: {verdict})")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"machine": common.machine_info(), "summary": summary, "runs": runs,
             "args": vars(args)},
            indent=2, default=str,
        ))  # fmt: skip
    common.drop_database(web_pages.DB)
    common.drop_database(PEER_DB)
    return 0 if all(row["median_ratio"] >= row["target"] for row in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
