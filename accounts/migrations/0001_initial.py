"""Account and Membership move here from `points`, rows and all: this migration only takes them
over in Django's state (their tables keep their names until 0002) and renames their content
types, so the permissions given on them and the admin's history follow.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ["account", "membership"]


def _rename(apps, from_app, to_app):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        content_type = ContentType.objects.filter(app_label=from_app, model=model).first()
        if content_type is None:
            continue  # a database without it yet: post_migrate creates it
        # One made before this migration ran (code of this version run against the old schema:
        # get_for_model creates it) has nothing given on it: the one people hold takes its place.
        ContentType.objects.filter(app_label=to_app, model=model).delete()
        content_type.app_label = to_app
        content_type.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _rename(apps, "points", "accounts")


def backwards(apps, schema_editor):
    _rename(apps, "accounts", "points")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The ledger permissions leave Account before its content type moves.
        ("points", "0006_ledger_permissions_on_lot"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Account",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="created"),
                        ),
                    ],
                    options={
                        "verbose_name": "customer account",
                        "verbose_name_plural": "customer accounts",
                        "ordering": ["name", "id"],
                        "db_table": "points_account",
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("owner", "owner"), ("member", "secondary user")],
                                max_length=10,
                                verbose_name="role",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="since"),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="memberships",
                                to="accounts.account",
                                verbose_name="account",
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="membership",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "account user",
                        "verbose_name_plural": "account users",
                        "db_table": "points_membership",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("role", "owner")),
                                fields=("account",),
                                name="membership_one_owner_per_account",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
