import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sellers.models import ApiKey, ApiScope
from sellers.services import API_KEY_PREFIX, api_key_create, sequence_next

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_create_api_key_prints_the_key_once_and_stores_only_its_digest(seller, api):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "--seller", seller.slug, "--name", "POS till 2", stdout=out, stderr=err)

    raw_key = out.getvalue().strip()
    key = ApiKey.objects.get(name="POS till 2")
    assert raw_key.startswith(f"{API_KEY_PREFIX}{key.prefix}_")
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    assert all(raw_key not in str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields)
    # Unnamed scopes are a storefront's: working shipments is granted only by name.
    assert sorted(key.scopes) == sorted([ApiScope.PRODUCTS_READ, ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])
    assert "shown once" in err.getvalue()

    call_command(
        "create_api_key", "--seller", seller.slug, "--name", "Scanner", "--scope", "fulfillment:write", stdout=out
    )
    assert ApiKey.objects.get(name="Scanner").scopes == [ApiScope.FULFILLMENT_WRITE]


def test_create_api_key_for_an_unknown_seller_fails_clearly(db):
    with pytest.raises(CommandError, match="No seller with slug 'nobody'"):
        call_command("create_api_key", "--seller", "nobody")


def test_a_key_records_when_it_was_last_used(seller):
    issued = api_key_create(seller=seller, name="shop")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    assert client.get("/api/v1/products/").status_code == 200

    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


def test_sequences_are_per_seller_and_start_at_one(seller, other_seller):
    numbers = [sequence_next(seller_id=seller.pk, name="invoice") for _ in range(3)]

    assert numbers == [1, 2, 3]
    assert sequence_next(seller_id=other_seller.pk, name="invoice") == 1
    assert sequence_next(seller_id=seller.pk, name="order") == 1


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-0123456789",
        "WAYBILL_ENCRYPTION_KEYS": "Ob3fC0I2Qxq2q1oWJd0W8m8kZ2Xy3h8C8yH5xZr0b4E=",
        "ALLOWED_HOSTS": "oms.example.com",
        "DATABASE_URL": "postgres://waybill@127.0.0.1:5432/waybill",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
