"""Expiry job: lots_expire_due() on many due lots, against the bare SQL that makes the same changes.

    .venv/bin/python bench/expiry.py [--lots 1000000] [--accounts 100000]

1. Creates hd_expiry_tpl, migrates it and fills it with set-based SQL (generate_series):
   --accounts accounts and --lots purchase lots (payment reference 'bench-<lot id>'), all due
   (expires_at in the past), with their `purchase` journal entries. Every 10th lot was fully
   spent and every 10th + 1 partly (an `adjustment_debit` entry each), so the ledger stays
   consistent and some due lots have nothing left to expire. VACUUM ANALYZE.
2. Copies it to hd_expiry_run (CREATE DATABASE ... TEMPLATE) and runs the real job,
   points.services.lots_expire_due(), in a fresh subprocess that does nothing else: wall time
   and peak memory (ru_maxrss) of that process. Verifies: no due lot left, one `expire` entry
   per due lot that had points left, with those points.
3. Copies the template again to hd_expiry_sql and times the bare SQL (one INSERT ... SELECT
   into points_entry, one UPDATE of points_lot, in one transaction); verifies the same.
4. Prints both times and the ratio (target: job <= 1.5 x bare SQL; peak memory <= 150 MB).
   With --repeat N, steps 2 and 3 alternate N times and the median ratio counts.

The databases are dropped at the end (--keep keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import common

TEMPLATE = "hd_expiry_tpl"
RUN_DB = "hd_expiry_run"
SQL_DB = "hd_expiry_sql"
TARGET_RATIO = 1.5
TARGET_MEMORY_MB = 150

GENERATE = [
    # Accounts.
    """
    INSERT INTO accounts_account (name, created_at)
    SELECT 'Expiry bench account ' || g, now() - interval '3 years'
    FROM generate_series(1, %(accounts)s) AS g
    """,
    # Lots: ids 1..lots (the table is empty), spread over the accounts, all expired at the start
    # of a day in the last two years (a purchase lot expires at the start of the day two years
    # after purchase: ties on expires_at, broken by id). Every 10th lot has nothing left, every
    # 10th + 1 has 60 of its 100 points left. `correlated`: lots bought later expire later (id
    # order = expiry order, as in real life); `shuffled`: expiry order unrelated to id order.
    """
    INSERT INTO points_lot (id, account_id, kind, points, remaining, acquired_at, expires_at,
                            expired_at, reminded_at, payment_reference, order_id, source_lot_id)
    SELECT g, a.first + (g %% %(accounts)s), 'purchase', 100,
           CASE g %% 10 WHEN 0 THEN 0 WHEN 1 THEN 60 ELSE 100 END,
           e.at - interval '2 years' + (g %% 80000) * interval '1 second', e.at,
           NULL, NULL, 'bench-' || g, NULL, NULL
    FROM generate_series(1, %(lots)s) AS g
    CROSS JOIN (SELECT min(id) AS first FROM accounts_account) AS a
    CROSS JOIN LATERAL (
        SELECT date_trunc('day', now()) - interval '1 day' * (1 + (
                   CASE WHEN %(shuffled)s THEN (g::bigint * 7919) %% %(lots)s ELSE %(lots)s - g END
               ) * 729 / %(lots)s) AS at
    ) AS e
    """,
    "SELECT setval(pg_get_serial_sequence('points_lot', 'id'), (SELECT max(id) FROM points_lot))",
    # The purchase entry of every lot.
    """
    INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at)
    SELECT account_id, 'purchase', points, id, '', acquired_at FROM points_lot ORDER BY id
    """,
    # What was spent from a lot (a manual negative adjustment: no hold or ticket needed).
    """
    INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at)
    SELECT account_id, 'adjustment_debit', points - remaining, id, 'bench: spent',
           acquired_at + interval '1 day'
    FROM points_lot WHERE remaining < points ORDER BY id
    """,
]

BARE_SQL = [
    """
    INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at)
    SELECT account_id, 'expire', remaining, id, '', now()
    FROM points_lot
    WHERE expired_at IS NULL AND expires_at <= now() AND remaining > 0
    """,
    """
    UPDATE points_lot SET remaining = 0, expired_at = now()
    WHERE expired_at IS NULL AND expires_at <= now()
    """,
]

DUE = "expired_at IS NULL AND expires_at <= now()"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument(
        "--order",
        choices=["correlated", "shuffled"],
        default="correlated",
        help="expiry order follows lot id order (as in real life), or not (worst case)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=0, help="job batch size (default: the setting)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="job / bare SQL pairs (the ratio is their median)"
    )
    parser.add_argument("--check", action="store_true", help="also run the full ledger check")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    # The child processes: migrate a database, or run only the job.
    parser.add_argument("--migrate", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--job", metavar="DB", help=argparse.SUPPRESS)
    return parser.parse_args()


def generate(args) -> dict:
    common.create_database(TEMPLATE)
    # Migrate in a child process: the template must have no open connection when it is copied,
    # and this process keeps no Django state.
    subprocess.run([sys.executable, __file__, "--migrate", TEMPLATE], check=True, cwd=common.ROOT)
    params = {"lots": args.lots, "accounts": args.accounts, "shuffled": args.order == "shuffled"}
    with common.connect(TEMPLATE, autocommit=False) as conn:
        for sql in GENERATE:
            conn.execute(sql, params if "%(" in sql else None)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        row = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE remaining > 0), "
            f"coalesce(sum(remaining), 0) FROM points_lot WHERE {DUE}"
        ).fetchone()
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = size.fetchone()[0]
    return {"due": row[0], "with_remaining": row[1], "points": int(row[2]), "size": size}


def verify(dbname: str, before: dict) -> list[str]:
    """What is wrong after expiring (empty when all is well)."""
    with common.connect(dbname) as conn:
        left = conn.execute(f"SELECT count(*) FROM points_lot WHERE {DUE}").fetchone()[0]
        entries, points = conn.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM points_entry WHERE kind = 'expire'"
        ).fetchone()
        unmarked = conn.execute(
            "SELECT count(*) FROM points_lot WHERE expires_at <= now() "
            "AND (expired_at IS NULL OR remaining <> 0)"
        ).fetchone()[0]
    problems = []
    if left:
        problems.append(f"{left} due lots left")
    if unmarked:
        problems.append(f"{unmarked} past-expiry lots not zeroed and marked")
    if entries != before["with_remaining"]:
        problems.append(f"{entries} expire entries for {before['with_remaining']} lots with points")
    if int(points) != before["points"]:
        problems.append(f"{points} points expired instead of {before['points']}")
    return problems


def ledger_check(dbname: str) -> int:
    done = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=common.ROOT,
        env={**os.environ, **common.bench_env(dbname)},
        capture_output=True,
        text=True,
    )
    return done.returncode


def run_job(args) -> dict:
    """The child process: only the job."""
    common.django_setup(args.job)
    from django.db import connection

    from points.services import lots_expire_due

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # connect before the clock starts
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = lots_expire_due(batch_size=args.batch_size or None)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": usage.ru_maxrss / 1024,
        "lots": result.lots,
        "points": result.points,
    }


def time_bare_sql(dbname: str) -> float:
    with common.connect(dbname, autocommit=False) as conn:
        conn.execute("SELECT 1")
        conn.rollback()
        start = time.perf_counter()
        for sql in BARE_SQL:
            conn.execute(sql)
        conn.commit()
        return time.perf_counter() - start


def checkpoint(dbname: str) -> None:
    with common.connect(dbname) as conn:
        conn.execute("CHECKPOINT")


def main() -> int:
    args = parse_args()
    if args.migrate:
        common.django_setup(args.migrate)
        common.migrate()
        return 0
    if args.job:
        print(json.dumps(run_job(args)))
        return 0

    print("Machine:")
    common.print_machine_info()
    print(
        f"\nGenerating {args.lots:,} due lots ({args.order}) over {args.accounts:,} accounts "
        f"in {TEMPLATE} ..."
    )
    start = time.perf_counter()
    before = generate(args)
    print(
        f"  {before['due']:,} due lots, {before['with_remaining']:,} with points left "
        f"({before['points']:,} points); database {before['size']}; "
        f"took {time.perf_counter() - start:.1f} s"
    )

    problems: list[str] = []
    pairs = []
    for number in range(1, args.repeat + 1):
        label = f" (pair {number}/{args.repeat})" if args.repeat > 1 else ""
        job = time_job(args, before, problems, label)
        bare = time_bare(before, problems, label)
        pairs.append((job, bare))
    if not args.keep:
        common.drop_database(TEMPLATE)

    ratios = [job["wall"] / bare for job, bare in pairs]
    ratio = statistics.median(ratios)
    peak = max(job["rss_peak_mb"] for job, _bare in pairs)
    time_met = ratio <= TARGET_RATIO
    memory_met = peak <= TARGET_MEMORY_MB
    print("\nSummary:")
    print(f"  lots                {args.lots:,} over {args.accounts:,} accounts, {args.order}")
    for job, bare in pairs:
        print(
            f"  job {job['wall']:8.2f} s   bare SQL {bare:8.2f} s   ratio {job['wall'] / bare:5.2f}"
        )
    print(
        f"  ratio{' (median)' if len(pairs) > 1 else ''}       {ratio:8.2f}   "
        f"target <= {TARGET_RATIO}: {'MET' if time_met else 'MISSED'}"
    )
    print(
        f"  peak memory         {peak:8.0f} MB target <= {TARGET_MEMORY_MB} MB: "
        f"{'MET' if memory_met else 'MISSED'}"
    )
    print(f"  verification        {'FAILED: ' + '; '.join(problems) if problems else 'OK'}")
    return 0 if time_met and memory_met and not problems else 1


def time_job(args, before: dict, problems: list[str], label: str) -> dict:
    print(f"\nJob{label}: lots_expire_due() in a fresh process, on a copy ({RUN_DB}) ...")
    common.create_database(RUN_DB, template=TEMPLATE)
    checkpoint(RUN_DB)
    command = [sys.executable, __file__, "--job", RUN_DB]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    print(f"  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=common.ROOT)
    job = json.loads(done.stdout.strip().splitlines()[-1])
    found = verify(RUN_DB, before)
    if job["lots"] != before["due"] or job["points"] != before["points"]:
        found.append(f"the job reported {job['lots']} lots / {job['points']} points")
    print(
        f"  {job['wall']:.2f} s wall ({job['cpu']:.2f} s CPU in the process), "
        f"{job['lots']:,} lots, {job['points']:,} points"
    )
    print(
        f"  peak memory (ru_maxrss) {job['rss_peak_mb']:.0f} MB "
        f"(Django loaded and connected, before the job: {job['rss_before_mb']:.0f} MB)"
    )
    print(f"  verification: {'; '.join(found) if found else 'OK'}")
    if args.check:
        code = ledger_check(RUN_DB)
        print(f"  check_ledger: {'consistent' if code == 0 else f'exit {code}'}")
        found += [] if code == 0 else ["check_ledger failed"]
    problems += [f"job: {problem}" for problem in found]
    if not args.keep:
        common.drop_database(RUN_DB)
    return job


def time_bare(before: dict, problems: list[str], label: str) -> float:
    print(f"\nBare SQL{label}: INSERT ... SELECT + UPDATE in one transaction ({SQL_DB}) ...")
    common.create_database(SQL_DB, template=TEMPLATE)
    checkpoint(SQL_DB)
    print(f"  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bare = time_bare_sql(SQL_DB)
    found = verify(SQL_DB, before)
    print(f"  {bare:.2f} s; verification: {'; '.join(found) if found else 'OK'}")
    problems += [f"bare SQL: {problem}" for problem in found]
    common.drop_database(SQL_DB)
    return bare


if __name__ == "__main__":
    sys.exit(main())
