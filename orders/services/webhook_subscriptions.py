"""A seller's webhook subscriptions: where to deliver which topics, signed with which
secret. The secret is generated here and shown in full only by create and rotate."""

import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from orders.exceptions import InvalidWebhookSubscription, WebhookSubscriptionNotFound
from orders.models import WEBHOOK_TOPICS, WebhookSubscription
from sellers.models import Seller

SECRET_PREFIX = "whsec_"
URL_MAX_LENGTH = WebhookSubscription._meta.get_field("url").max_length


def webhook_secret_generate() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_problems(*, url: str, allow_plain_http: bool | None = None) -> list[str]:
    """What is wrong with ``url`` as a delivery target, as messages for the user; empty
    when it is fine. Plain http is allowed while DEBUG is on, and always for loopback."""
    allow_plain_http = settings.DEBUG if allow_plain_http is None else allow_plain_http
    if len(url) > URL_MAX_LENGTH:
        return [f"Use at most {URL_MAX_LENGTH} characters."]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return ["Use an http or https URL."]
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return ["Enter a valid URL."]
    if parts.username is not None or parts.password is not None:
        return ["Put no credentials in the URL: verify the Waybill-Signature header instead."]
    if scheme == "http" and not allow_plain_http and not _is_loopback(parts.hostname or ""):
        return ["Use https: deliveries carry order data."]
    return []


def webhook_topics_problems(*, topics: list[str]) -> list[str]:
    if not topics:
        return ["Subscribe to at least one topic."]
    unknown = sorted(set(topics) - set(WEBHOOK_TOPICS))
    if unknown:
        return [f"Unknown topics: {', '.join(unknown)}. Choose from {', '.join(WEBHOOK_TOPICS)}."]
    return []


def _validated(*, url: str | None, topics: list[str] | None) -> None:
    details = {}
    if url is not None and (problems := webhook_url_problems(url=url)):
        details["url"] = problems
    if topics is not None and (problems := webhook_topics_problems(topics=topics)):
        details["topics"] = problems
    if details:
        raise InvalidWebhookSubscription(details=details)


def _ordered_topics(topics: list[str]) -> list[str]:
    return [topic for topic in WEBHOOK_TOPICS if topic in set(topics)]


@dataclass(frozen=True)
class WebhookSubscriptionInput:
    url: str
    topics: list[str]
    description: str = ""
    is_active: bool = True


def webhook_subscription_create(*, seller: Seller, data: WebhookSubscriptionInput) -> WebhookSubscription:
    _validated(url=data.url, topics=data.topics)
    return WebhookSubscription.objects.create(
        seller=seller,
        url=data.url,
        topics=_ordered_topics(data.topics),
        description=data.description,
        is_active=data.is_active,
        secret=webhook_secret_generate(),
    )


def _locked(*, seller_id: int, subscription_id: int) -> WebhookSubscription:
    subscription = (
        WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, seller_id=seller_id).first()
    )
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    return subscription


def webhook_subscription_get(*, seller_id: int, subscription_id: int) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.filter(pk=subscription_id, seller_id=seller_id).first()
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    return subscription


def webhook_subscription_update(
    *,
    seller_id: int,
    subscription_id: int,
    url: str | None = None,
    topics: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Change the given fields (None leaves a field as it is)."""
    _validated(url=url, topics=topics)
    changes = {"url": url, "description": description, "is_active": is_active}
    if topics is not None:
        changes["topics"] = _ordered_topics(topics)
    with transaction.atomic():
        subscription = _locked(seller_id=seller_id, subscription_id=subscription_id)
        fields = []
        for field, value in changes.items():
            if value is not None:
                setattr(subscription, field, value)
                fields.append(field)
        if fields:
            subscription.save(update_fields=[*fields, "updated_at"])
    return subscription


def webhook_subscription_delete(*, seller_id: int, subscription_id: int) -> None:
    """Delete the subscription and its delivery log; queued deliveries find nothing."""
    with transaction.atomic():
        _locked(seller_id=seller_id, subscription_id=subscription_id).delete()


def webhook_secret_rotate(*, seller_id: int, subscription_id: int) -> WebhookSubscription:
    """A new secret signs every delivery from now on; the old one stops working at once."""
    with transaction.atomic():
        subscription = _locked(seller_id=seller_id, subscription_id=subscription_id)
        subscription.secret = webhook_secret_generate()
        subscription.save(update_fields=["secret", "updated_at"])
    return subscription
