"""The seller page and its memberships: owners and managers manage who has access,
only an owner hands out or takes away the owner role."""

import pytest
from django.urls import reverse

from sellers.models import StaffMembership, StaffRole
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def owner(seller):
    return MembershipFactory(seller=seller, role=StaffRole.OWNER).user


@pytest.fixture
def manager(seller):
    return MembershipFactory(seller=seller, role=StaffRole.MANAGER).user


def change_url(seller) -> str:
    return reverse("admin:sellers_seller_change", args=[seller.pk])


def current_form_data(response) -> dict:
    """What the browser would post back unchanged: the main form, and each inline's
    management form and rows."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def with_new_membership(data: dict, *, username: str, role: str) -> dict:
    index = int(data["memberships-TOTAL_FORMS"])
    return {
        **data,
        "memberships-TOTAL_FORMS": str(index + 1),
        f"memberships-{index}-user": username,
        f"memberships-{index}-role": role,
    }


def row_index(data: dict, membership: StaffMembership) -> int:
    return next(int(key.split("-")[1]) for key, value in data.items() if key.endswith("-id") and value == membership.pk)


def test_manager_grants_access_by_username_through_the_service(client, seller, manager):
    newcomer = UserFactory(is_staff=False)
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), with_new_membership(data, username=newcomer.username, role="staff"))

    assert response.status_code == 302
    assert StaffMembership.objects.get(seller=seller, user=newcomer).role == StaffRole.STAFF
    newcomer.refresh_from_db()
    assert newcomer.is_staff


def test_an_unknown_username_is_a_form_error(client, seller, manager):
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), with_new_membership(data, username="nobody-here", role="staff"))

    assert response.status_code == 200
    assert StaffMembership.objects.filter(seller=seller).count() == 1
    assert "No account has this username." in response.content.decode()


def test_the_membership_list_does_not_offer_every_account(client, seller, manager):
    stranger = UserFactory(username="staff-of-another-seller")
    client.force_login(manager)

    response = client.get(change_url(seller))

    assert stranger.username not in response.content.decode()


def test_manager_cannot_grant_the_owner_role(client, seller, manager):
    newcomer = UserFactory()
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), with_new_membership(data, username=newcomer.username, role="owner"))

    assert response.status_code == 200
    assert not StaffMembership.objects.filter(user=newcomer).exists()
    assert "Only an owner of this seller can grant" in response.content.decode()


def test_manager_cannot_remove_an_owner(client, seller, manager, owner):
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))
    owner_row = row_index(data, StaffMembership.objects.get(user=owner))

    response = client.post(change_url(seller), {**data, f"memberships-{owner_row}-DELETE": "on"})

    assert response.status_code == 200
    assert "Only an owner of this seller can grant, change or remove the owner role." in response.content.decode()
    assert StaffMembership.objects.filter(user=owner, seller=seller, role=StaffRole.OWNER).exists()


def test_manager_removes_a_staff_membership(client, seller, manager):
    staff = MembershipFactory(seller=seller, role=StaffRole.STAFF)
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), {**data, f"memberships-{row_index(data, staff)}-DELETE": "on"})

    assert response.status_code == 302
    assert not StaffMembership.objects.filter(pk=staff.pk).exists()


def test_owner_grants_the_owner_role(client, seller, owner):
    newcomer = UserFactory()
    client.force_login(owner)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), with_new_membership(data, username=newcomer.username, role="owner"))

    assert response.status_code == 302
    assert StaffMembership.objects.get(user=newcomer, seller=seller).role == StaffRole.OWNER


def test_manager_cannot_change_the_slug_or_deactivate_the_seller(client, seller, manager):
    slug = seller.slug
    client.force_login(manager)
    data = current_form_data(client.get(change_url(seller)))

    response = client.post(change_url(seller), {**data, "name": "Renamed", "slug": "taken-over", "is_active": ""})

    assert response.status_code == 302
    seller.refresh_from_db()
    assert (seller.name, seller.slug, seller.is_active) == ("Renamed", slug, True)


def test_viewer_sees_the_seller_read_only(client, seller):
    viewer = MembershipFactory(seller=seller, role=StaffRole.VIEWER).user
    client.force_login(viewer)

    page = client.get(change_url(seller))
    post = client.post(change_url(seller), {"name": "Renamed"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert post.status_code == 403


def test_only_superusers_add_sellers(client, admin_client, seller, owner):
    client.force_login(owner)

    assert client.get(reverse("admin:sellers_seller_add")).status_code == 403
    assert admin_client.get(reverse("admin:sellers_seller_add")).status_code == 200
