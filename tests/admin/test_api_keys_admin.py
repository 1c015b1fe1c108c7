"""API keys in the admin: created through the service, shown once, revoked by action."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from sellers.models import ApiKey, ApiScope, StaffRole
from sellers.services import api_key_create, api_key_digest
from tests.factories import MembershipFactory, SellerFactory

ADD = reverse("admin:sellers_apikey_add")
CHANGELIST = reverse("admin:sellers_apikey_changelist")


@pytest.fixture
def manager(client, seller):
    user = MembershipFactory(seller=seller, role=StaffRole.MANAGER).user
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_creating_a_key_shows_the_raw_key_once_and_stores_only_its_digest(client, seller, manager):
    response = client.post(
        ADD, {"seller": seller.pk, "name": "Shop front", "scopes": [ApiScope.PRODUCTS_READ, ApiScope.ORDERS_READ]}
    )

    assert response.status_code == 302
    api_key = ApiKey.objects.get(name="Shop front")
    assert api_key.seller == seller
    assert api_key.scopes == [ApiScope.PRODUCTS_READ, ApiScope.ORDERS_READ]
    assert api_key.created_by == manager
    shown = client.get(response.url)
    key_messages = [m for m in messages_of(shown) if m.startswith("The new API key is ")]
    assert len(key_messages) == 1
    raw_key = key_messages[0].removeprefix("The new API key is ").split(" ")[0]
    assert raw_key.startswith(f"wb_{api_key.prefix}_")
    assert api_key.digest == api_key_digest(raw_key)
    assert raw_key not in [getattr(api_key, f.attname) for f in ApiKey._meta.concrete_fields]
    assert raw_key in shown.content.decode()
    assert api_key.digest not in shown.content.decode()
    assert raw_key not in client.get(response.url).content.decode()
    detail = client.get(reverse("admin:sellers_apikey_change", args=[api_key.pk])).content.decode()
    assert raw_key not in detail
    assert api_key.digest not in detail


def test_the_add_form_offers_scopes_as_checkboxes_and_only_the_users_sellers(client, seller, other_seller, manager):
    response = client.get(ADD)

    form = response.context["adminform"].form
    assert list(form.fields["seller"].queryset) == [seller]
    assert form.fields["seller"].initial == seller.pk
    assert list(form.fields["scopes"].choices) == list(ApiScope.choices)
    assert 'type="checkbox" name="scopes"' in response.content.decode()


def test_a_key_for_another_seller_cannot_be_created(client, seller, other_seller, manager):
    response = client.post(ADD, {"seller": other_seller.pk, "name": "Sneaky", "scopes": [ApiScope.ORDERS_WRITE]})

    assert response.status_code == 200
    assert "seller" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_staff_role_cannot_create_keys(client, seller):
    client.force_login(MembershipFactory(seller=seller, role=StaffRole.STAFF).user)

    response = client.post(ADD, {"seller": seller.pk, "name": "Nope", "scopes": [ApiScope.ORDERS_READ]})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_only_the_name_of_a_key_can_change(client, seller, manager):
    api_key = api_key_create(seller=seller, name="Old", scopes=[ApiScope.ORDERS_READ]).api_key
    digest = api_key.digest

    response = client.post(
        reverse("admin:sellers_apikey_change", args=[api_key.pk]),
        {"name": "New", "scopes": [ApiScope.ORDERS_WRITE], "prefix": "hijack", "revoked_at": ""},
    )

    assert response.status_code == 302
    api_key.refresh_from_db()
    assert (api_key.name, api_key.scopes, api_key.digest) == ("New", [ApiScope.ORDERS_READ], digest)
    assert api_key.prefix != "hijack"


def test_revoke_action_revokes_through_the_service_and_only_the_users_keys(client, seller, other_seller, manager):
    own = api_key_create(seller=seller, name="Own").api_key
    foreign = api_key_create(seller=other_seller, name="Foreign").api_key

    response = client.post(
        CHANGELIST, {"action": "revoke_keys", "_selected_action": [own.pk, foreign.pk], "index": 0}, follow=True
    )

    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.revoked_at is not None
    assert foreign.revoked_at is None
    assert messages_of(response) == [f"Revoked 1 key(s): {own.prefix}."]


def test_revoking_a_revoked_key_is_an_error_message_not_a_crash(client, seller, manager):
    api_key = api_key_create(seller=seller, name="Gone").api_key
    client.post(CHANGELIST, {"action": "revoke_keys", "_selected_action": [api_key.pk], "index": 0}, follow=True)

    response = client.post(
        CHANGELIST, {"action": "revoke_keys", "_selected_action": [api_key.pk], "index": 0}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == [f"Key {api_key.prefix}: This API key is already revoked."]


def test_a_viewer_sees_the_keys_but_cannot_revoke_them(client, seller):
    api_key = api_key_create(seller=seller, name="Watched").api_key
    client.force_login(MembershipFactory(seller=seller, role=StaffRole.VIEWER).user)

    page = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "revoke_keys", "_selected_action": [api_key.pk], "index": 0})

    assert page.status_code == 200
    assert "Watched" in page.content.decode()
    assert page.context["action_form"] is None
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_keys_cannot_be_deleted(admin_client):
    api_key = api_key_create(seller=SellerFactory(), name="Kept").api_key

    response = admin_client.post(reverse("admin:sellers_apikey_delete", args=[api_key.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert ApiKey.objects.filter(pk=api_key.pk).exists()
