"""The e-mail outbox moves to the `notifications` app, and a wait for points is recorded on the
ticket.

Every row of the old outbox is copied, sent or not, with its attempts, errors and recipients; what
it was about (its ticket, or its account for account e-mails) becomes its subject. A ticket that
waits for points it was asked to buy (a "points needed" e-mail since its latest status move, which
was the record of that wait) gets `points_requested_at` from that e-mail.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

BATCH = 2000


def _content_type(apps, app_label, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]


def record_waits_for_points(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    StatusChange = apps.get_model("tickets", "StatusChange")
    OldNotification = apps.get_model("tickets", "Notification")
    latest_move = (
        StatusChange.objects.filter(ticket=OuterRef(OuterRef("pk")))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    asked = (
        OldNotification.objects.filter(
            ticket=OuterRef("pk"), event="points_needed", created_at__gte=Subquery(latest_move)
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    waiting = Ticket.objects.filter(status="waiting_for_customer").annotate(asked=Subquery(asked))
    for ticket_id, asked_at in waiting.exclude(asked=None).values_list("id", "asked"):
        Ticket.objects.filter(pk=ticket_id).update(points_requested_at=asked_at)


def copy_outbox(apps, schema_editor):
    OldNotification = apps.get_model("tickets", "Notification")
    Notification = apps.get_model("notifications", "Notification")
    ticket_type = _content_type(apps, "tickets", "ticket")
    account_type = _content_type(apps, "accounts", "account")
    rows = OldNotification.objects.select_related("ticket", "account").order_by("id")
    last_id = 0
    while True:
        batch = list(rows.filter(id__gt=last_id)[:BATCH])
        if not batch:
            return
        Notification.objects.bulk_create(
            Notification(
                id=old.id,
                event=old.event,
                subject_type=ticket_type if old.ticket_id else account_type,
                subject_id=old.ticket_id or old.account_id,
                about=(
                    f"#{old.ticket_id} {old.ticket.subject}" if old.ticket_id else old.account.name
                )[:250],
                context=old.context,
                created_at=old.created_at,
                next_attempt_at=old.next_attempt_at,
                attempts=old.attempts,
                last_error=old.last_error,
                sent_at=old.sent_at,
                recipients=old.recipients,
            )
            for old in batch
        )
        last_id = batch[-1].id


def restart_outbox_ids(apps, schema_editor):
    """The copied rows kept their ids: new notifications are numbered after them."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('notifications_notification', 'id'), "
            "COALESCE((SELECT MAX(id) FROM notifications_notification), 0) + 1, false)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_account_in_accounts_app"),
        ("accounts", "0002_default_table_names"),
        ("notifications", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="points_requested_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="points asked for"),
        ),
        migrations.RunPython(record_waits_for_points, migrations.RunPython.noop),
        migrations.RunPython(copy_outbox, migrations.RunPython.noop),
        migrations.RunPython(restart_outbox_ids, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
