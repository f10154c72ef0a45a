from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_customer")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(model_name="order", index=models.Index(fields=["total"], name="shop_order_total_idx")),
    ]
