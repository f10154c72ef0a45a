from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0004_order_note_idx")]

    operations = [
        migrations.RunSQL(
            ["SET lock_timeout = '2s'", "ALTER TABLE shop_order ALTER COLUMN note TYPE varchar(200)"],
            reverse_sql="DROP TABLE shop_order",
        ),
    ]
