from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


def normalise(apps, schema_editor):
    Item = apps.get_model("inventory", "Item")
    Item.objects.update(sku="")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("inventory", "0002_widen_sku")]
    operations = [
        AddIndexConcurrently(model_name="item", index=models.Index(fields=["sku"], name="inventory_sku_idx")),
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
