from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_invoice_paid"), ("shop", "0006_order_status")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", reverse_sql=migrations.RunSQL.noop),
        migrations.AddField(model_name="invoice", name="number", field=models.CharField(max_length=20, null=True)),
        # migrasafe: ignore MS001 -- the invoice table is small and written once a day
        migrations.AddIndex(model_name="invoice", index=models.Index(fields=["number"], name="billing_number_idx")),
    ]
