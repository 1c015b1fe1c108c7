"""Settings shared by every environment, all driven by the environment (12-factor).

Embedded defaults need no services: a SQLite file and Celery on kombu's filesystem
transport in a folder of the checkout, so a fresh machine runs everything.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me-in-production-0123456789")
# Fernet keys for credentials stored in the database, newest first (core/crypto.py).
WAYBILL_ENCRYPTION_KEYS = env.list("WAYBILL_ENCRYPTION_KEYS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "djmoney",
    "djmoney.contrib.exchange",
    "django_celery_beat",
    "core",
    "sellers",
    "inventory",
    "orders",
    "orders.payments",
    "orders.invoicing",
    "orders.finance",
    "shipping",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env(default: str | None = None) -> dict:
    """DATABASE_URL with the connection settings every environment shares."""
    database = env.db("DATABASE_URL", default=default) if default else env.db("DATABASE_URL")
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server and the worker read while the other writes; the busy
        # timeout makes a writer wait for the lock instead of failing at once.
        options.update({"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"})
    elif database["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that needs no round trip while the
        # connection has nothing to read: see core.backends.postgresql.
        database["ENGINE"] = "core.backends.postgresql"
        # Parameters bound by the server, and a statement run five times on a
        # connection prepared there: PostgreSQL then skips parsing and planning it (the
        # order-capture path repeats the same dozen statements). Django turns preparing
        # off by default for poolers; behind a transaction-mode PgBouncer without
        # prepared-statement support (before 1.21, or max_prepared_statements = 0),
        # set DATABASE_PREPARE_THRESHOLD=off.
        threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", None if threshold.lower() == "off" else int(threshold))
    return database


DATABASES = {"default": database_from_env(default=f"sqlite:///{VAR_DIR / 'waybill.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


def cache_from_env(default: str) -> dict:
    """CACHE_URL; Redis through core.cache_backends.RedisCache (one client per pool)."""
    cache = env.cache("CACHE_URL", default=default)
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        cache["BACKEND"] = "core.cache_backends.RedisCache"
    return cache


CACHES = {"default": cache_from_env(default="locmemcache://")}

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@waybill.localhost")

# --- Money ------------------------------------------------------------------------
# Currencies an order may be placed in. ISO 4217 minor units come from py-moneyed.
WAYBILL_CURRENCIES = env.list(
    "WAYBILL_CURRENCIES",
    default=["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "DKK", "PLN", "KWD", "BHD"],
)
CURRENCIES = WAYBILL_CURRENCIES
DEFAULT_CURRENCY = "USD"
# django-money's default, set: it reads this on every sum of two Money values, and
# Django's settings object remembers only settings that exist (a missing one raises
# inside each lookup). Amounts in different currencies are never converted.
AUTO_CONVERT_MONEY = False
# The tax engine orders are taxed with at placement (a dotted path to a class with a
# ``quote`` method, see orders/finance/tax/base.py); the default reads the sellers' rates.
WAYBILL_TAX_ENGINE = env.str("WAYBILL_TAX_ENGINE", default="orders.finance.tax.table.TableTaxEngine")

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["sellers.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["sellers.authentication.IsSellerApiClient"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["sellers.throttling.ApiKeyRateThrottle"],
    # The OpenAPI schema describes the API; OPTIONS metadata would describe it again,
    # and wrongly for views whose input and output serializers differ.
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Waybill API",
    "DESCRIPTION": (
        "Order management for ecommerce sellers. Authenticate with a seller API key: "
        "`Authorization: Bearer <key>`. Errors always have the shape "
        '`{"code": ..., "message": ..., "details": {...}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {},
}

# --- Celery -------------------------------------------------------------------------
# Default broker: kombu's filesystem transport in var/broker, so a worker and beat run
# on a machine with no Redis or RabbitMQ. Production sets CELERY_BROKER_URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = str(VAR_DIR / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_folder,
        "data_folder_out": _broker_folder,
        "control_folder": str(VAR_DIR / "broker-control"),
    }
    for _folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():
        Path(_folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Tasks a worker enqueues go here too; a test run points its worker at its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when the broker is down: the outbox keeps the
# event and the sweep relays it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "core.tasks.outbox_sweep_task", "schedule": 30.0},
    "idempotency-purge": {"task": "orders.tasks.idempotency_records_purge_task", "schedule": 3600.0},
    "backorders-sweep": {"task": "orders.tasks.backorders_sweep_task", "schedule": 600.0},
    "shipping-tracking-poll": {"task": "shipping.tasks.tracking_poll_task", "schedule": 300.0},
    "payments-sweep": {"task": "orders.payments.tasks.payments_sweep_task", "schedule": 60.0},
}

# --- Waybill ------------------------------------------------------------------------
# How often an API key's last-used time is written: every request would be a write.
WAYBILL_API_KEY_TOUCH_SECONDS = env.int("WAYBILL_API_KEY_TOUCH_SECONDS", default=60)
# How long a process may keep a seller's API keys, order policy, risk rules and tax
# rates in memory before reading them again (core.cache); 0 reads them every time.
WAYBILL_CONFIG_CACHE_SECONDS = env.float("WAYBILL_CONFIG_CACHE_SECONDS", default=5.0)
WAYBILL_MAX_ORDER_LINES = env.int("WAYBILL_MAX_ORDER_LINES", default=500)
# How long an Idempotency-Key's first response is replayed (at least a day).
WAYBILL_IDEMPOTENCY_HOURS = max(24, env.int("WAYBILL_IDEMPOTENCY_HOURS", default=48))
# Requests per minute per API key; a burst above it answers 429 with Retry-After.
WAYBILL_API_RATE_PER_MINUTE = env.int("WAYBILL_API_RATE_PER_MINUTE", default=6000)
# Outbound webhooks: the first retry waits about this long, each next one twice as long
# (with jitter); after the last retry a delivery is abandoned.
WAYBILL_WEBHOOK_RETRY_BASE_SECONDS = env.float("WAYBILL_WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WAYBILL_WEBHOOK_MAX_RETRIES = env.int("WAYBILL_WEBHOOK_MAX_RETRIES", default=8)
WAYBILL_WEBHOOK_TIMEOUT_SECONDS = env.float("WAYBILL_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Shipping: carriers. EasyPost defaults to the local sandbox (python manage.py
# easypost_sandbox); production sets the real base https://api.easypost.com/v2 and a key.
WAYBILL_EASYPOST_API_BASE = env.str("WAYBILL_EASYPOST_API_BASE", default="http://127.0.0.1:8787/v2")
WAYBILL_EASYPOST_API_KEY = env.str("WAYBILL_EASYPOST_API_KEY", default="EZTK-sandbox-key")
WAYBILL_EASYPOST_WEBHOOK_SECRET = env.str("WAYBILL_EASYPOST_WEBHOOK_SECRET", default="sandbox-webhook-secret")
WAYBILL_CARRIER_TIMEOUT_SECONDS = env.int("WAYBILL_CARRIER_TIMEOUT_SECONDS", default=20)
# A parcel on its way with a carrier that does not push is polled at most this often.
WAYBILL_TRACKING_POLL_SECONDS = env.int("WAYBILL_TRACKING_POLL_SECONDS", default=3600)

# --- Stripe -------------------------------------------------------------------------
# One Stripe account; the defaults point at the local Stripe server (`make run` starts it,
# `manage.py stripe_sandbox` runs it alone). Production sets STRIPE_API_BASE to
# https://api.stripe.com with the live key and the webhook endpoint's secret.
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="sk_test_waybill_local")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="http://127.0.0.1:12111")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_waybill_local")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
