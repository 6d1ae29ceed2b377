"""Staff views of the ledger. Lots, holds and journal entries are read-only here: every change of
points goes through `points.services` (grants, manual adjustments, marking orders paid), which
lock the account and journal the change with who did it and why.

- `accounts`: customer accounts, their users, granting and adjusting points;
- `ledger`: lots, holds and journal entries (read-only);
- `orders`: point packages and orders (marking an order paid);
- `common`: the expiry filter and the staff action page they share.
"""

# Importing the modules registers their admins.
from . import accounts, ledger, orders
from .common import ExpiryListFilter, action_page

__all__ = ["ExpiryListFilter", "accounts", "action_page", "ledger", "orders"]
