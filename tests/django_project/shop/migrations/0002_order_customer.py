import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", reverse_sql=migrations.RunSQL.noop),
        migrations.AddField(
            model_name="order",
            name="customer",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="shop.customer"),
        ),
    ]
