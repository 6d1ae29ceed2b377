"""The REST API under load: the same data and harness as bench/web_pages.py (gunicorn, wrk).

    .venv/bin/python bench/api.py [--duration 15] [--clients 8] [--skip-data] [--keep] [...]

Takes web_pages.py's options and makes its data (in hd_apibench; --keep keeps hd_apibench_tpl
for a later --skip-data run), then for --sessions customers makes a personal token each and
measures, per gunicorn worker class: the ticket list (GET /api/v1/tickets) and the statement
(GET /api/v1/statement) as JSON, and filing a ticket (POST /api/v1/tickets, which captures its
price through the ledger; the customers are granted points first). Targets (issue 12): both
reads at least 130 req/s (3x django-helpdesk's "my tickets" JSON endpoint, 41-46 req/s on this
machine) with p99 < 100 ms; ticket creation is reported.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import common
import web_pages

LUA = Path(__file__).with_suffix(".lua")
# Databases of its own: web_pages.py's would collide with a web_pages.py run at the same time
# (set in main(): bench/peer.py imports this module and measures in web_pages.py's databases).
DB = "hd_apibench"
TEMPLATE = "hd_apibench_tpl"
TARGET_RPS = 130
TARGET_P99_MS = 100


def make_requests(args, workdir: Path, *, with_writes: bool = True) -> dict[str, Path]:
    """A requests file per measured operation, for --sessions customers with a token each;
    without `with_writes`, the reads only (no points granted)."""
    from accounts.models import Membership, MembershipRole
    from api.services import api_token_create
    from catalog.models import IssueCategory
    from points.services import points_grant

    rng = random.Random(web_pages.SEED + 12)
    owners = list(
        Membership.objects.filter(role=MembershipRole.OWNER)
        .select_related("user", "account")
        .order_by("account_id")
    )
    chosen = rng.sample(owners, min(args.sessions, len(owners)))
    category = IssueCategory.objects.active().filter(pricing_kind="fixed").order_by("id").first()
    lines: dict[str, list[str]] = {
        "API ticket list": [],
        "API statement": [],
        "API file ticket": [],
    }
    for membership in chosen:
        _token, secret = api_token_create(user=membership.user, name="bench")
        lines["API ticket list"].append(f"{secret}\tGET\t/api/v1/tickets\t-")
        lines["API statement"].append(f"{secret}\tGET\t/api/v1/statement\t-")
        if not with_writes:
            continue
        points_grant(account=membership.account, points=100_000, reason="bench", actor=None)
        body = json.dumps(
            {"category": category.pk, "subject": "Bench ticket", "description": "Load test."},
            separators=(",", ":"),
        )
        lines["API file ticket"].append(f"{secret}\tPOST\t/api/v1/tickets\t{body}")
    files = {}
    for name, rows in lines.items():
        if not rows:
            continue
        path = workdir / (name.replace(" ", "_") + ".requests")
        path.write_text("".join(row + "\n" for row in rows))
        files[name] = path
    return files


def run_wrk(port: int, requests_file: Path, seconds: int, args) -> dict:
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.clients}",
        f"-d{seconds}s",
        "--timeout=10s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(server, port: int, name: str, requests_file: Path, args) -> dict:
    run_wrk(port, requests_file, args.warmup, args)
    sampler = web_pages.CpuSampler(server.pid)
    sampler.start()
    busy_before, total_before = web_pages.machine_busy()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(port, requests_file, args.duration, args)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = web_pages.machine_busy()
    used = sampler.stop()
    wrk_used = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    requests = max(result["requests"], 1)
    is_read = not name.endswith("file ticket")
    result.update(
        page=name,
        worker_cpu_ms_per_request=used["worker"] * 1000 / requests,
        postgres_cpu_ms_per_request=used["postgres"] * 1000 / requests,
        wrk_cpu_ms_per_request=wrk_used * 1000 / requests,
        machine_busy_pct=100 * (busy_after - busy_before) / max(total_after - total_before, 1),
        met=(
            result["rps"] >= TARGET_RPS
            and result["p99_us"] < TARGET_P99_MS * 1000
            and result["non_200"] == 0
        )
        if is_read
        else None,
    )
    verdict = {None: "reported", True: "MET", False: "MISSED"}[result["met"]]
    print(
        f"  {name:18} {result['rps']:7.1f} req/s  p50 {result['p50_us'] / 1000:6.1f} ms  "
        f"p99 {result['p99_us'] / 1000:6.1f} ms  non-2xx {result['non_200']}  "
        f"worker CPU {result['worker_cpu_ms_per_request']:.1f} ms/req, "
        f"postgres {result['postgres_cpu_ms_per_request']:.1f} ms/req, "
        f"wrk {result['wrk_cpu_ms_per_request']:.1f} ms/req, "
        f"machine busy {result['machine_busy_pct']:.0f}%  "
        f"target {TARGET_RPS if is_read else '—'}: {verdict}",
        flush=True,
    )
    return result


def main() -> int:
    args = web_pages.parse_args()
    web_pages.DB, web_pages.TEMPLATE = DB, TEMPLATE
    workdir = Path(tempfile.mkdtemp(prefix="apibench-"))
    env = web_pages.environment(str(workdir / "static"))
    os.environ.update(env)
    print("Machine:")
    common.print_machine_info()
    print("  load is shared: other processes on this machine may be running at the same time")
    if args.skip_data:
        common.create_database(web_pages.DB, template=web_pages.TEMPLATE)
        common.django_setup(web_pages.DB)
        common.migrate()
    else:
        common.django_setup(web_pages.DB)
        web_pages.generate(args)
        from django.db import connections

        connections.close_all()
        common.create_database(web_pages.TEMPLATE, template=web_pages.DB)
    for key, value in web_pages.describe_data().items():
        print(f"  {key}: {value}")
    files = make_requests(args, workdir)
    web_pages.collectstatic(env)
    from django.db import connections

    connections.close_all()
    runs = []
    classes = [name.strip() for name in args.worker_classes.split(",") if name.strip()]
    for round_number in range(1, args.rounds + 1):
        for worker_class in classes:
            server, port, config = web_pages.start_server(
                env, worker_class, args, workdir / "gunicorn.log"
            )
            print(f"\nRound {round_number}/{args.rounds}: gunicorn {config}")
            print(f"  wrk -t{args.wrk_threads} -c{args.clients}: {args.duration} s measured")
            try:
                for name, path in files.items():
                    result = measure(server, port, name, path, args)
                    result.update(worker_class=worker_class, round=round_number)
                    runs.append(result)
            finally:
                web_pages.stop_server(server)
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "args": vars(args)}, indent=2))
    if not args.keep:
        common.drop_database(web_pages.DB)
        common.drop_database(web_pages.TEMPLATE)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(run["met"] is not False for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
