"""The tables take the app's names: a rename, no copy (foreign keys follow it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("points", "0007_account_moved_to_accounts"),
    ]

    operations = [
        migrations.AlterModelTable(name="account", table=None),
        migrations.AlterModelTable(name="membership", table=None),
    ]
