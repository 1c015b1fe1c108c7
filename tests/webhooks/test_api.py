"""Webhook subscriptions over the API: the storefront's own seller only, the secret
shown once, invalid input refused in the one error shape with nothing written."""

import pytest

from orders.models import WebhookSubscription
from orders.webhook_signing import webhook_signature_header, webhook_signature_verify
from sellers.models import ApiScope
from tests.conftest import client_for
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhooks/"
HOOK = "https://shop.example.com/hooks/waybill"


def detail(subscription_id: int) -> str:
    return f"{LIST}{subscription_id}/"


def test_create_returns_the_secret_once_and_lists_without_it(api, seller):
    response = api.post(LIST, {"url": HOOK, "topics": ["order.cancelled", "order.created"]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert stored.seller_id == seller.pk
    assert body["secret"] == stored.secret and stored.secret.startswith("whsec_") and len(stored.secret) > 40
    assert body["topics"] == ["order.created", "order.cancelled"]
    assert (body["url"], body["is_active"], body["secret_hint"]) == (HOOK, True, f"…{stored.secret[-4:]}")
    listed = api.get(LIST).json()
    assert [item["id"] for item in listed] == [stored.pk]
    assert "secret" not in listed[0] and "secret" not in api.get(detail(stored.pk)).json()


def test_patch_changes_only_the_given_fields(api, seller):
    subscription = subscribe(seller, HOOK, topics=["order.created"])

    response = api.patch(detail(subscription.pk), {"topics": ["order.updated"], "is_active": False}, format="json")

    assert response.status_code == 200, response.json()
    subscription.refresh_from_db()
    assert (subscription.url, subscription.topics, subscription.is_active) == (HOOK, ["order.updated"], False)


def test_rotate_secret_returns_a_new_secret_that_signs_from_now_on(api, seller):
    subscription = subscribe(seller, HOOK)
    old_secret = subscription.secret

    response = api.post(f"{detail(subscription.pk)}rotate-secret/")

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert response.json()["secret"] == subscription.secret != old_secret


def test_delete_removes_the_subscription(api, seller):
    subscription = subscribe(seller, HOOK)

    assert api.delete(detail(subscription.pk)).status_code == 204
    assert not WebhookSubscription.objects.filter(pk=subscription.pk).exists()


def test_another_sellers_subscription_answers_404_to_every_method(api, other_seller):
    theirs = subscribe(other_seller, HOOK)
    secret = theirs.secret

    responses = [
        api.get(detail(theirs.pk)),
        api.patch(detail(theirs.pk), {"url": "https://evil.example.com/"}, format="json"),
        api.delete(detail(theirs.pk)),
        api.post(f"{detail(theirs.pk)}rotate-secret/"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert responses[0].json() == {
        "code": "webhook_not_found",
        "message": "No such webhook subscription.",
        "details": {},
    }
    theirs.refresh_from_db()
    assert (theirs.url, theirs.secret) == (HOOK, secret)
    assert api.get(LIST).json() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://shop.example.com/hook", "Use an http or https URL."),
        ("https://user:pw@shop.example.com/hook", "Put no credentials in the URL"),
        ("http://shop.example.com/hook", "Use https"),
        ("https://", "Enter a valid URL."),
    ],
)
def test_an_invalid_url_is_refused_and_nothing_is_written(api, url, message):
    response = api.post(LIST, {"url": url, "topics": ["order.created"]}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["details"])) == ("validation_error", ["url"])
    assert body["details"]["url"][0].startswith(message)
    assert not WebhookSubscription.objects.exists()


def test_plain_http_is_allowed_for_loopback_and_while_debugging(api, settings):
    assert (
        api.post(LIST, {"url": "http://127.0.0.1:9000/h", "topics": ["order.created"]}, format="json").status_code
        == 201
    )
    assert api.post(LIST, {"url": "http://localhost/h", "topics": ["order.created"]}, format="json").status_code == 201
    settings.DEBUG = True
    assert api.post(LIST, {"url": "http://shop.test/h", "topics": ["order.created"]}, format="json").status_code == 201


def test_unknown_or_no_topics_are_refused_in_the_one_error_shape(api, seller):
    unknown = api.post(LIST, {"url": HOOK, "topics": ["order.shipped"]}, format="json")
    empty = api.post(LIST, {"url": HOOK, "topics": []}, format="json")
    subscription = subscribe(seller, HOOK)
    bad_patch = api.patch(detail(subscription.pk), {"url": "http://shop.example.com/"}, format="json")

    assert (unknown.status_code, unknown.json()["code"], list(unknown.json()["details"])) == (
        400,
        "validation_error",
        ["topics.0"],
    )
    assert (empty.status_code, list(empty.json()["details"])) == (400, ["topics"])
    assert (bad_patch.status_code, list(bad_patch.json()["details"])) == (400, ["url"])
    subscription.refresh_from_db()
    assert subscription.url == HOOK
    assert WebhookSubscription.objects.count() == 1


def test_managing_needs_the_write_scope_and_reading_the_read_scope(seller):
    reader = client_for(seller, scopes=[ApiScope.ORDERS_READ])
    subscription = subscribe(seller, HOOK)

    assert reader.get(LIST).status_code == 200
    assert reader.post(LIST, {"url": HOOK, "topics": ["order.created"]}, format="json").status_code == 403
    assert reader.post(f"{detail(subscription.pk)}rotate-secret/").status_code == 403
    assert client_for(seller, scopes=[ApiScope.PRODUCTS_READ]).get(LIST).status_code == 403
    assert WebhookSubscription.objects.count() == 1


def test_the_verification_recipe_accepts_only_the_exact_signed_bytes():
    secret, body, timestamp = "whsec_test", b'{"id":"e1"}', 1_700_000_000
    header = webhook_signature_header(secret, timestamp, body)

    assert webhook_signature_verify(secret, header, body, now=timestamp)
    assert not webhook_signature_verify(secret, header, body + b" ", now=timestamp)
    assert not webhook_signature_verify(secret, header, body, now=timestamp - 301)
    assert not webhook_signature_verify(secret, "garbage", body, now=timestamp)
