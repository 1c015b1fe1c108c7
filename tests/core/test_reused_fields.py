"""core.serializers.ReusedFieldsMixin: fields built once per class and thread, lent to
each new serializer, validating exactly as fresh ones would."""

import threading

from rest_framework import serializers

from core.serializers import ReusedFieldsMixin


class Item(serializers.Serializer):
    sku = serializers.CharField(max_length=5)
    quantity = serializers.IntegerField(min_value=1)


class Basket(ReusedFieldsMixin, serializers.Serializer):
    name = serializers.CharField()
    items = Item(many=True, allow_empty=False)
    note = serializers.CharField(required=False, default="")

    def validate_name(self, value):
        return f"{value}{self.context.get('suffix', '')}"


class FreshBasket(serializers.Serializer):
    name = serializers.CharField()
    items = Item(many=True, allow_empty=False)
    note = serializers.CharField(required=False, default="")


BODIES = [
    {"name": "a", "items": [{"sku": "X", "quantity": 2}]},
    {"name": "b", "items": [{"sku": "TOOLONG", "quantity": 0}]},
    {"items": []},
    {"name": "c", "items": [{"sku": "Y", "quantity": 1}, {"sku": "Z", "quantity": "x"}], "note": "n"},
    {"name": "d", "items": [{"sku": "Q", "quantity": 3}]},
]


def _outcome(serializer) -> tuple[bool, object]:
    valid = serializer.is_valid()
    return valid, serializer.validated_data if valid else serializer.errors


def test_fields_are_built_once_and_lent_to_the_next_instance():
    first, second = Basket(data=BODIES[0]), Basket(data=BODIES[4])
    assert first.fields is second.fields
    assert second.fields["items"].parent is second
    assert second.fields["items"].child.root is second


def test_each_instance_validates_as_a_fresh_serializer_would():
    for body in BODIES * 2:  # valid and invalid bodies interleaved, each twice
        assert _outcome(Basket(data=body)) == _outcome(FreshBasket(data=body))


def test_context_is_the_current_instances():
    assert Basket(data=BODIES[0], context={"suffix": "!"}).is_valid()
    lent = Basket(data=BODIES[4], context={"suffix": "?"})
    assert lent.is_valid()
    assert lent.validated_data["name"] == "d?"


def test_each_thread_builds_its_own():
    here = Basket(data=BODIES[0]).fields
    seen = []
    thread = threading.Thread(target=lambda: seen.append(Basket(data=BODIES[0]).fields))
    thread.start()
    thread.join()
    assert seen[0] is not here
