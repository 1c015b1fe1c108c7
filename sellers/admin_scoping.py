"""Tenant scoping for the admin.

A non-superuser staff user sees and changes only the rows of sellers they hold a
``StaffMembership`` for, and what they may do with those rows comes from the
membership's role, not from Django's model permissions. The mixins here apply that to
every place the admin reads rows: changelists and change forms (``get_queryset``, so a
URL to another seller's object answers "doesn't exist"), foreign-key choices, the
autocomplete endpoint (it uses the related admin's ``get_queryset``), list filters and
actions. Superusers see everything.

Each admin declares who may do what as role sets: ``NOBODY`` (not even a superuser:
audit trails), ``SUPERUSERS_ONLY``, or the roles that may.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import Model, Q, QuerySet

from sellers.models import Seller, StaffMembership, StaffRole

Roles = frozenset[str] | None

NOBODY: Roles = None
SUPERUSERS_ONLY: Roles = frozenset()
ALL_ROLES: Roles = frozenset(StaffRole.values)
EDITOR_ROLES: Roles = frozenset({StaffRole.OWNER, StaffRole.MANAGER, StaffRole.STAFF})
MANAGER_ROLES: Roles = frozenset({StaffRole.OWNER, StaffRole.MANAGER})

_ROLES_CACHE_ATTRIBUTE = "_waybill_seller_roles"


def seller_roles(request) -> dict[int, str]:
    """The requesting user's role per seller id, read once per request."""
    roles = getattr(request, _ROLES_CACHE_ATTRIBUTE, None)
    if roles is None:
        roles = dict(StaffMembership.objects.filter(user_id=request.user.pk).values_list("seller_id", "role"))
        setattr(request, _ROLES_CACHE_ATTRIBUTE, roles)
    return roles


def seller_ids_with(request, roles: Roles) -> set[int]:
    """Ids of the sellers where the requesting user holds one of ``roles``."""
    if not roles:
        return set()
    return {seller_id for seller_id, role in seller_roles(request).items() if role in roles}


def union(*role_sets: Roles) -> Roles:
    present = [roles for roles in role_sets if roles is not None]
    return frozenset().union(*present) if present else NOBODY


def seller_filter(model: type[Model], seller_ids: set[int]) -> Q | None:
    """The condition that keeps ``model``'s rows to ``seller_ids``, or None when the
    model carries no seller (its rows cannot be scoped, so none are offered)."""
    if model is Seller:
        return Q(pk__in=seller_ids)
    if any(field.name == "seller" and field.is_relation for field in model._meta.get_fields()):
        return Q(seller__in=seller_ids)
    return None


def scope_to_sellers(queryset: QuerySet, seller_ids: set[int]) -> QuerySet:
    condition = seller_filter(queryset.model, seller_ids)
    return queryset.none() if condition is None else queryset.filter(condition)


class SellerScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter that lists only the requesting user's sellers' rows
    (Django's lists every row of the related table)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        condition = seller_filter(field.related_model, model_admin.viewable_seller_ids(request))
        if condition is None:
            return []
        return field.get_choices(include_blank=False, limit_choices_to=condition, ordering=ordering)

    def has_output(self):
        # Django drops a filter with a single choice, and with it the filter's query
        # parameter: "?seller=<another seller>" would then list the user's own rows
        # as if they were that seller's. An active filter always applies.
        return super().has_output() or self.lookup_val is not None or bool(self.lookup_val_isnull)


class SellerScopedPermissionsMixin:
    """Permissions from membership roles, and foreign-key choices limited to the
    sellers where the user may write. Shared by model admins and inlines."""

    view_roles: Roles = ALL_ROLES
    change_roles: Roles = NOBODY
    add_roles: Roles = NOBODY
    delete_roles: Roles = NOBODY
    seller_field = "seller"

    def seller_id_of(self, obj) -> int:
        return obj.pk if self.seller_field == "id" else getattr(obj, f"{self.seller_field}_id")

    def role_allows(self, request, roles: Roles, obj=None) -> bool:
        if roles is None:
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(seller_ids_with(request, roles))
        return self.seller_id_of(obj) in seller_ids_with(request, roles)

    def viewable_seller_ids(self, request) -> set[int]:
        return seller_ids_with(request, union(self.view_roles, self.change_roles))

    def writable_seller_ids(self, request) -> set[int]:
        return seller_ids_with(request, union(self.change_roles, self.add_roles))

    def has_module_permission(self, request):
        return self.role_allows(request, union(self.view_roles, self.change_roles))

    def has_view_permission(self, request, obj=None):
        return self.role_allows(request, union(self.view_roles, self.change_roles), obj)

    def has_change_permission(self, request, obj=None):
        return self.role_allows(request, self.change_roles, obj)

    def has_add_permission(self, request, obj=None):
        return self.role_allows(request, self.add_roles, obj)

    def has_delete_permission(self, request, obj=None):
        return self.role_allows(request, self.delete_roles, obj)

    def related_choices(self, db_field, request, using=None) -> QuerySet:
        """The rows a relation field may point to: the writable sellers' rows, in the
        related admin's ordering; none at all of a model that carries no seller."""
        queryset = self.get_field_queryset(using, db_field, request)
        if queryset is None:
            queryset = db_field.related_model._default_manager.using(using).all()
        return scope_to_sellers(queryset, self.writable_seller_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            kwargs["queryset"] = self.related_choices(db_field, request, kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            kwargs["queryset"] = self.related_choices(db_field, request, kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SellerScopedAdminMixin(SellerScopedPermissionsMixin):
    """For a ``ModelAdmin`` of a model that belongs to a seller.

    ``seller_field`` names the model's foreign key to ``Seller`` (``"id"`` for the
    Seller admin itself).
    """

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.seller_field}__in": self.viewable_seller_ids(request)})

    def selection_for_action(self, request, queryset: QuerySet, roles: Roles) -> list:
        """The selected rows the user may act on with ``roles``, in pk order. The
        selection is already limited to what they can see; seeing is not acting, so
        rows of sellers where their role is too low are left out, with a warning."""
        selected = list(queryset.order_by("pk"))
        if roles is None:
            allowed = []
        elif request.user.is_superuser:
            allowed = selected
        else:
            seller_ids = seller_ids_with(request, roles)
            allowed = [obj for obj in selected if self.seller_id_of(obj) in seller_ids]
        if skipped := len(selected) - len(allowed):
            self.message_user(
                request,
                f"{skipped} of the selected {self.opts.verbose_name_plural} skipped: your role does not allow this.",
                messages.WARNING,
            )
        return allowed

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        # A row never moves to another seller: its stock, orders and keys stay behind.
        if obj is not None and self.seller_field != "id" and self.seller_field not in readonly:
            readonly += (self.seller_field,)
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        seller = form.base_fields.get(self.seller_field)
        if seller is not None and obj is None and not request.user.is_superuser:
            # Adding needs the add role, which may be held for fewer sellers than change.
            seller_ids = seller_ids_with(request, self.add_roles)
            seller.queryset = seller.queryset.filter(pk__in=seller_ids)
            if len(seller_ids) == 1:
                seller.initial = next(iter(seller_ids))
        return form

    def get_list_filter(self, request):
        """A relation filter named by its field path lists only the user's sellers'
        rows. A filter given as a class or a (path, class) pair must scope itself."""
        list_filter = super().get_list_filter(request)
        if request.user.is_superuser:
            return list_filter
        scoped = []
        for item in list_filter:
            if isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
                item = (item, SellerScopedRelatedFilter)
            scoped.append(item)
        return scoped


class SellerScopedInlineMixin(SellerScopedPermissionsMixin):
    """For an inline. The admin passes the parent object to an inline's permission
    checks, so ``seller_field`` names the *parent's* foreign key to ``Seller``; the
    inline's rows are reached through the parent, which is already scoped."""
