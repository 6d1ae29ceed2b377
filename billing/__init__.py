"""Receipts and credit notes for the points customers pay for, and the account's billing details.

Between `tickets` and `points`: it reads the ledger's orders and lots, and the ledger calls it
through `points.hooks` when an order is paid, so a receipt is issued in the payment's transaction.
"""
