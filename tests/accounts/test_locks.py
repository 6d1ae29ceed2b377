"""accounts/locks.py is the one place that locks accounts: every other module asks it, so every
operation takes the account lock the same way and in the same order."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts import locks
from tests.points.support import app_modules, chain

LOCKS = Path(locks.__file__).resolve()
RAW_LOCK = re.compile(r"for\s+(no\s+key\s+)?(update|share)", re.IGNORECASE)


def account_locks(source: str) -> list[str]:
    """Where `source` locks account rows itself: select_for_update() on a query of accounts, or
    SQL that locks the accounts' table."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "select_for_update" and any(
                (isinstance(link, ast.Name) and link.id in ("Account", "accounts"))
                or (isinstance(link, ast.Attribute) and link.attr == "Account")
                for link in chain(node.func.value)
            ):
                found.append(f"{node.lineno}: select_for_update() of accounts")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if RAW_LOCK.search(node.value) and "accounts_account" in node.value:
                found.append(f"{node.lineno}: SQL locking the accounts' table")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "Account.objects.select_for_update().get(pk=1)",
        "models.Account.objects.filter(pk=1).select_for_update()",
        "accounts.order_by('id').select_for_update()",
        "cursor.execute('SELECT id FROM accounts_account WHERE id = %s FOR UPDATE', [1])",
    ],
)
def test_the_guard_catches_an_account_locked_by_hand(source):
    assert account_locks(source)


def test_the_guard_lets_other_rows_be_locked():
    assert account_locks("Lot.objects.filter(account=account).select_for_update()") == []
    assert account_locks("User.objects.select_for_update().first()") == []


def test_no_module_but_accounts_locks_locks_accounts():
    assert len(account_locks(LOCKS.read_text())) == 2
    lockers = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in app_modules()
        if path.resolve() != LOCKS and (found := account_locks(path.read_text()))
    }
    assert lockers == {}
