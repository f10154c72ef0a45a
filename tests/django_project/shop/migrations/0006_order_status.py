from django.db import migrations, models


def fill_status(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    Order.objects.filter(status="").update(status="paid")


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_widen_note")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", reverse_sql=migrations.RunSQL.noop),
        migrations.AddField(model_name="order", name="status", field=models.CharField(max_length=10, default="")),
        migrations.RunPython(fill_status, migrations.RunPython.noop),
    ]
