"""Production: every secret and host comes from the environment; nothing defaults open."""

from .base import *
from .base import cache_from_env, database_from_env, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# Required: stored Stripe (and later marketplace) credentials are encrypted with them.
WAYBILL_ENCRYPTION_KEYS = env.list("WAYBILL_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": database_from_env()}
CACHES = {"default": cache_from_env(default="redis://127.0.0.1:6379/1")}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
