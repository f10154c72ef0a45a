from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_sku_index")]
    operations = [
        migrations.RunSQL("ALTER TABLE inventory_item ADD CONSTRAINT sku_not_blank CHECK (sku <> '')"),
    ]
