from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("billing", "0001_squashed_0002_invoice_number")]
    operations = []
