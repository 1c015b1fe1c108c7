from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from core.exceptions import ApplicationError
from sellers.admin_scoping import (
    ALL_ROLES,
    MANAGER_ROLES,
    NOBODY,
    SUPERUSERS_ONLY,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
    seller_roles,
)
from sellers.models import ApiKey, ApiScope, Seller, StaffMembership, StaffRole
from sellers.services import api_key_create, api_key_revoke, membership_grant

User = get_user_model()


class MembershipForm(forms.ModelForm):
    # A text box, not a list of every account on the system: that list would show one
    # seller's managers the staff of every other seller.
    user = forms.ModelChoiceField(
        queryset=User.objects.all(),
        to_field_name=User.USERNAME_FIELD,
        widget=forms.TextInput,
        label="Username",
        help_text="The exact username of an existing account.",
        error_messages={"invalid_choice": "No account has this username."},
    )

    class Meta:
        model = StaffMembership
        fields = ("user", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # To give the access to someone else, remove this row and add one.
            self.fields["user"].disabled = True
            self.initial["user"] = self.instance.user.get_username()


class MembershipFormSet(BaseInlineFormSet):
    # Set per request by StaffMembershipInline.get_formset.
    may_manage_owners = False

    def clean(self):
        super().clean()
        if self.may_manage_owners:
            return
        for form in self.forms:
            was_owner = form.initial.get("role") == StaffRole.OWNER
            becomes_owner = getattr(form, "cleaned_data", {}).get("role") == StaffRole.OWNER
            touched = form.has_changed() or self._should_delete_form(form)
            if touched and (was_owner or becomes_owner):
                raise ValidationError("Only an owner of this seller can grant, change or remove the owner role.")


class StaffMembershipInline(SellerScopedInlineMixin, admin.TabularInline):
    model = StaffMembership
    form = MembershipForm
    formset = MembershipFormSet
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    seller_field = "id"
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.may_manage_owners = request.user.is_superuser or (
            obj is not None and seller_roles(request).get(obj.pk) == StaffRole.OWNER
        )
        return formset


@admin.register(Seller)
class SellerAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "country", "base_currency", "is_active", "created_at")
    list_filter = ("is_active", "country")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (StaffMembershipInline,)
    seller_field = "id"
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = SUPERUSERS_ONLY
    delete_roles = SUPERUSERS_ONLY

    def get_readonly_fields(self, request, obj=None):
        readonly = ("created_at", "updated_at")
        if not request.user.is_superuser:
            # The slug is how integrations name the seller; deactivating switches off
            # its API keys. Both are for the operators of the installation.
            readonly += ("slug", "is_active")
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        return {} if "slug" in self.get_readonly_fields(request, obj) else self.prepopulated_fields

    def save_formset(self, request, form, formset, change):
        if formset.model is not StaffMembership:
            super().save_formset(request, form, formset, change)
            return
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            membership.delete()
        for membership in memberships:
            membership_grant(seller=form.instance, user=membership.user, role=membership.role)


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant only what the storefront needs.",
    )

    class Meta:
        model = ApiKey
        fields = ("seller", "name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("prefix", "name", "seller", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("seller",)
    list_filter = ("seller", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "=prefix")
    actions = ("revoke_keys",)
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    # Revoke instead: a deleted key would leave its orders' events without their actor.
    delete_roles = NOBODY

    create_fields = ("seller", "name", "scopes")
    detail_fields = (
        "name",
        "prefix",
        "seller",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    @admin.display(description="scopes")
    def scope_list(self, api_key: ApiKey) -> str:
        return ", ".join(api_key.scopes)

    def get_fields(self, request, obj=None):
        return self.create_fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # After creation only the name changes; the secret and its scopes are fixed.
        return tuple(field for field in self.detail_fields if field != "name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "updated_at"])
            return
        issued = api_key_create(
            seller=form.cleaned_data["seller"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by_id=request.user.pk,
        )
        # The admin logs and redirects with the instance it built; give it the saved row.
        vars(obj).update(vars(issued.api_key))
        self.message_user(
            request,
            f"The new API key is {issued.raw_key} — copy it now. Only its hash is stored, so it cannot be shown again.",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = []
        for api_key in self.selection_for_action(request, queryset, self.change_roles):
            try:
                api_key_revoke(api_key=api_key)
            except ApplicationError as exc:
                self.message_user(request, f"Key {api_key.prefix}: {exc.message}", messages.ERROR)
            else:
                revoked.append(api_key.prefix)
        if revoked:
            self.message_user(request, f"Revoked {len(revoked)} key(s): {', '.join(revoked)}.", messages.SUCCESS)
