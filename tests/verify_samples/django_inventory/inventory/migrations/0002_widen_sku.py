from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE inventory_item ALTER COLUMN sku TYPE varchar(40)",
            reverse_sql="ALTER TABLE inventory_item ALTER COLUMN sku TYPE varchar(30)",
        ),
    ]
