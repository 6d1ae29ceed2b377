"""The ledger permissions `grant_points` and `adjust_points` move from Account (which moves to the
`accounts` app) to Lot. The permission rows keep their ids, so the groups and users that have them
keep them; only their content type changes.
"""

from django.db import migrations

LEDGER_PERMISSIONS = ["grant_points", "adjust_points"]


def _move(apps, from_model, to_model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    source = ContentType.objects.filter(app_label="points", model=from_model).first()
    if source is None:
        return  # a database without them yet: post_migrate creates them on the right model
    target, _created = ContentType.objects.get_or_create(app_label="points", model=to_model)
    # Copies made there before this migration ran (code of this version run against the old
    # schema) were given to nobody: the rows people hold take their place.
    Permission.objects.filter(content_type=target, codename__in=LEDGER_PERMISSIONS).delete()
    Permission.objects.filter(content_type=source, codename__in=LEDGER_PERMISSIONS).update(
        content_type=target
    )


def forwards(apps, schema_editor):
    _move(apps, "account", "lot")


def backwards(apps, schema_editor):
    _move(apps, "lot", "account")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("points", "0005_webhook_event"),
        # It created these permissions on Account for the "Support staff" group.
        ("tickets", "0004_support_staff_group"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="account",
            options={
                "ordering": ["name", "id"],
                "verbose_name": "customer account",
                "verbose_name_plural": "customer accounts",
            },
        ),
        migrations.AlterModelOptions(
            name="lot",
            options={
                "ordering": ["expires_at", "acquired_at", "id"],
                "permissions": [
                    ("grant_points", "Can grant points to an account"),
                    ("adjust_points", "Can make manual adjustments of an account's points"),
                ],
                "verbose_name": "lot",
                "verbose_name_plural": "lots",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
