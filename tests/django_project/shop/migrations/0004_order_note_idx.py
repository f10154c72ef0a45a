from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("shop", "0003_order_total_idx")]

    operations = [
        AddIndexConcurrently(model_name="order", index=models.Index(fields=["note"], name="shop_order_note_idx")),
    ]
