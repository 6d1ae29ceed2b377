"""Outgoing webhooks: events of the HelpDesk sent, signed, to the integrations' URLs.

`events` turns the outbox's events into webhook deliveries (in the transaction that raised
them); `sending` posts them after commit, in order per subscription, with retries and backoff.
"""
