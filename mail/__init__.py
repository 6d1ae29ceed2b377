"""The e-mail channel: replies to ticket e-mails and new requests sent to the support address.

Three ways in (an IMAP mailbox polled by beat, `manage.py receive_email` for an MTA pipe, a
signed HTTP endpoint) and the embedded run's drop folder all hand raw bytes to one service,
`mail.services.inbound_ingest`, which records each e-mail once (`InboundEmail`) and routes it
through the same ticket services as the web.
"""
