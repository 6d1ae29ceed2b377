"""What the accounts app tells the layers above it."""

from django.dispatch import Signal

# Sent with `user` when someone chose their password through a one-time link e-mailed to them
# (accepting an invitation): the link proves the mailbox. The project lifts the login locks of
# that address on it, as after a password reset.
password_set_through_link = Signal()
