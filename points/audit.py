"""Recompute the ledger from lots, holds and journal entries and report every broken invariant.

The four invariants (SPEC §4):
1. 0 ≤ lot remaining ≤ lot points.
2. For every lot: points = remaining + held + deducted + expired + reissued + debited + refunded,
   where each bucket is what the journal says (a refunded order's lot at most once),
   and the lot's remaining and its allocations agree with it.
3. Account available balance = Σ remaining of unexpired lots = what the journal adds up to.
4. A hold's amount = Σ its allocations; a hold is settled or released once, never both.

Work is done in lot-id ranges so memory stays flat whatever the size of the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import (
    ENTRY_EFFECTS,
    LOT_CREATING_KINDS,
    Entry,
    EntryKind,
    Hold,
    HoldAllocation,
    HoldStatus,
    Lot,
)

BUCKETS = ["available", "held", "deducted", "expired", "reissued", "debited", "refunded"]


@dataclass(frozen=True)
class Violation:
    account_id: int
    what: str
    expected: object
    found: object

    def __str__(self):
        return (
            f"account {self.account_id}: {self.what}: expected {self.expected}, found {self.found}"
        )


def ledger_violations(*, at: datetime | None = None, chunk: int = 20_000) -> Iterator[Violation]:
    at = at or timezone.now()
    available_by_lots: dict[int, int] = defaultdict(int)
    available_by_journal: dict[int, int] = defaultdict(int)
    last_id = Lot.objects.aggregate(last=Max("id"))["last"] or 0
    for start in range(0, last_id, chunk):
        id_range = {"gt": start, "lte": start + chunk}
        yield from _lot_violations(at, id_range, available_by_lots, available_by_journal)
    for account_id in sorted(set(available_by_lots) | set(available_by_journal)):
        if available_by_lots[account_id] != available_by_journal[account_id]:
            yield Violation(
                account_id,
                "available balance (unexpired lots) vs journal",
                available_by_journal[account_id],
                available_by_lots[account_id],
            )
    yield from _hold_violations()


def _lot_violations(at, id_range, available_by_lots, available_by_journal):
    lots = Lot.objects.filter(id__gt=id_range["gt"], id__lte=id_range["lte"]).values(
        "id", "account_id", "points", "remaining", "expires_at", "expired_at"
    )
    journal: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    creations: dict[int, tuple[int, int]] = {}
    expiries: dict[int, int] = {}
    refunds: dict[int, int] = {}
    for row in (
        Entry.objects.filter(lot_id__gt=id_range["gt"], lot_id__lte=id_range["lte"])
        .values("lot_id", "kind")
        .annotate(points=Sum("amount"), count=Count("id"))
    ):
        for bucket, sign in ENTRY_EFFECTS[row["kind"]].items():
            journal[row["lot_id"]][bucket] += sign * row["points"]
        if row["kind"] in LOT_CREATING_KINDS:
            count, points = creations.get(row["lot_id"], (0, 0))
            creations[row["lot_id"]] = (count + row["count"], points + row["points"])
        elif row["kind"] == EntryKind.EXPIRE:
            expiries[row["lot_id"]] = row["count"]
        elif row["kind"] == EntryKind.ORDER_REFUND:
            refunds[row["lot_id"]] = row["count"]
    allocated: dict[tuple[int, str], int] = {
        (row["lot_id"], row["hold__status"]): row["points"]
        for row in HoldAllocation.objects.filter(
            lot_id__gt=id_range["gt"], lot_id__lte=id_range["lte"]
        )
        .values("lot_id", "hold__status")
        .annotate(points=Sum("amount"))
    }
    for lot in lots:
        lot_id, account_id = lot["id"], lot["account_id"]
        label = f"lot {lot_id}"
        buckets = journal[lot_id]
        if not 0 <= lot["remaining"] <= lot["points"]:
            yield Violation(
                account_id,
                f"{label} remaining within 0..{lot['points']}",
                f"0..{lot['points']}",
                lot["remaining"],
            )
        if creations.get(lot_id) != (1, lot["points"]):
            yield Violation(
                account_id,
                f"{label} (entries, points) that created it",
                (1, lot["points"]),
                creations.get(lot_id, (0, 0)),
            )
        if expiries.get(lot_id, 0) > 1:
            yield Violation(account_id, f"{label} expiry entries", "at most 1", expiries[lot_id])
        if refunds.get(lot_id, 0) > 1:
            yield Violation(account_id, f"{label} refund entries", "at most 1", refunds[lot_id])
        if lot["remaining"] != buckets["available"]:
            yield Violation(
                account_id, f"{label} remaining vs journal", buckets["available"], lot["remaining"]
            )
        held = allocated.get((lot_id, HoldStatus.OPEN), 0)
        if held != buckets["held"]:
            yield Violation(
                account_id, f"{label} held for open tickets vs journal", buckets["held"], held
            )
        deducted = allocated.get((lot_id, HoldStatus.SETTLED), 0)
        if deducted != buckets["deducted"]:
            yield Violation(
                account_id,
                f"{label} deducted for resolved tickets vs journal",
                buckets["deducted"],
                deducted,
            )
        total = (
            lot["remaining"]
            + held
            + deducted
            + sum(buckets[b] for b in ("expired", "reissued", "debited", "refunded"))
        )
        if total != lot["points"]:
            yield Violation(
                account_id,
                f"{label} points = remaining + held + deducted + expired + reissued + debited"
                " + refunded",
                lot["points"],
                total,
            )
        if lot["expires_at"] > at:
            available_by_lots[account_id] += lot["remaining"]
            available_by_journal[account_id] += buckets["available"]


def _hold_violations():
    mismatched = (
        Hold.objects.annotate(allocated=Coalesce(Sum("allocations__amount"), 0))
        .exclude(amount=F("allocated"))
        .values("id", "account_id", "amount", "allocated")
    )
    for hold in mismatched:
        yield Violation(
            hold["account_id"],
            f"hold {hold['id']} amount = Σ allocations",
            hold["allocated"],
            hold["amount"],
        )
    closed_twice = Hold.objects.filter(settled_at__isnull=False, released_at__isnull=False)
    for hold in closed_twice.values("id", "account_id"):
        yield Violation(
            hold["account_id"],
            f"hold {hold['id']} settled or released once",
            "settled or released",
            "both",
        )
