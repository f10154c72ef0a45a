from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [("billing", "0001_initial"), ("billing", "0002_invoice_number")]
    dependencies = [("shop", "0001_initial")]
    operations = []
