"""Render every existing message and quote note into the HTML stored beside it.

Not atomic: each batch commits on its own, so a large thread history is not rendered in one long
transaction; run again (or `manage.py render_messages`), it picks up where it stopped.
"""

from django.db import migrations

from tickets.rendering import render_outdated


def render_existing(apps, schema_editor):
    render_outdated(apps.get_model("tickets", "Message"), "body")
    render_outdated(apps.get_model("tickets", "Quote"), "note")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tickets", "0007_message_rendered_html"),
    ]

    operations = [
        migrations.RunPython(render_existing, migrations.RunPython.noop),
    ]
