"""The ledger refers to Account in the `accounts` app, which took it over with its rows (see
accounts/0001); here points lets go of Account and Membership in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("points", "0006_ledger_permissions_on_lot"),
        # Tickets stop referring to points' Account before it leaves the state.
        ("tickets", "0009_account_in_accounts_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="accounts.account",
                        verbose_name="account",
                    ),
                ),
                migrations.AlterField(
                    model_name="lot",
                    name="account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lots",
                        to="accounts.account",
                        verbose_name="account",
                    ),
                ),
                migrations.AlterField(
                    model_name="hold",
                    name="account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="holds",
                        to="accounts.account",
                        verbose_name="account",
                    ),
                ),
                migrations.AlterField(
                    model_name="entry",
                    name="account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="accounts.account",
                        verbose_name="account",
                    ),
                ),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="Account"),
            ],
        ),
    ]
