SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop", "billing"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "production", "HOST": "db.example.com"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
