"""The "Support staff" group: exactly what working tickets and customer accounts in the admin needs.

Permissions are normally created after `migrate` finishes (post_migrate), too late for a data
migration, so this one creates those of the apps it uses first. The list is frozen here on
purpose: a later change of the role is a new migration, not an edit of this one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Support staff"

PERMISSIONS = {
    "catalog": ["view_categorygroup", "view_issuecategory"],
    "points": [
        "view_account",
        "view_membership",
        "view_lot",
        "view_hold",
        "view_holdallocation",
        "view_entry",
        "view_order",
        "grant_points",
        "adjust_points",
        "mark_order_paid",
    ],
    "tickets": [
        "view_ticket",
        "change_ticket",
        "add_message",
        "change_ticket_cost",
        "view_access_details",
    ],
}


def create_group(apps, schema_editor):
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP_NAME)
    wanted = [
        Permission.objects.get(content_type__app_label=label, codename=codename)
        for label, codenames in PERMISSIONS.items()
        for codename in codenames
    ]
    group.permissions.set(wanted)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0002_default_catalog"),
        ("points", "0004_staff_permissions"),
        ("tickets", "0003_staff_permissions"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
