import points.payments.base
from django.db import migrations, models


class Migration(migrations.Migration):
    """Payment backends come from a registry: the choices of orders and provider events are
    read from it. Provider events get their provider; every event recorded before came through
    the one signed webhook, the "webhook" provider's. Event ids are unique per provider."""

    dependencies = [
        ('points', '0007_account_moved_to_accounts'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='payment_backend',
            field=models.CharField(choices=points.payments.base.backend_choices, max_length=10, verbose_name='payment backend'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='provider',
            field=models.CharField(choices=points.payments.base.backend_choices, default='webhook', max_length=10, verbose_name='provider'),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name='webhookevent',
            constraint=models.UniqueConstraint(fields=('provider', 'event_id'), name='webhook_event_once_per_provider'),
        ),
        migrations.AlterField(
            model_name='webhookevent',
            name='event_id',
            field=models.CharField(max_length=200, verbose_name='event id'),
        ),
    ]
