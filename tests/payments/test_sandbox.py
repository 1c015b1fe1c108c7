"""The local Stripe answers in the shapes of Stripe's official spec: every object it
returns has the spec's required fields with the spec's types, and it refuses what
Stripe refuses. Checked over HTTP with the real library and with raw requests."""

import json
import urllib.request

import pytest
import stripe

from orders.payments.sandbox import StripeSandbox
from orders.payments.sandbox.params import decode, shapes

TYPES = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "object": dict,
    "array": list,
    "number": (int, float),
}


def conforms(obj: dict, resource: str) -> list[str]:
    schema = shapes()["schemas"][resource]
    problems = [f"{resource}.{name} missing" for name in schema["required"] if name not in obj]
    for name, value in obj.items():
        spec = schema["properties"].get(name)
        if spec is None:
            continue  # newer than the 2023 spec (the 2026 fixtures add a few fields)
        if value is None:
            if not spec["nullable"]:
                problems.append(f"{resource}.{name} is null")
            continue
        allowed = tuple(TYPES[t] for t in spec["type"].split("|") if t in TYPES)
        if isinstance(value, bool) and bool not in allowed:
            problems.append(f"{resource}.{name} is a boolean")
        elif allowed and not isinstance(value, allowed):
            problems.append(f"{resource}.{name} is {type(value).__name__}, spec says {spec['type']}")
    return problems


@pytest.fixture
def sandbox():
    server = StripeSandbox(api_key="sk_test_shapes", webhook_secret="whsec_shapes")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(sandbox):
    return stripe.StripeClient("sk_test_shapes", base_addresses={"api": sandbox.url}, max_network_retries=0)


def test_every_object_of_a_full_flow_matches_the_spec(sandbox, client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "capture_method": "manual",
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 4000})
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000, "reason": "duplicate"})
    sandbox.state.dispute_create(payment_intent=intent.id, reason="fraudulent")
    cancelled = client.v1.payment_intents.create(
        params={
            "amount": 100,
            "currency": "jpy",
            "capture_method": "manual",
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    client.v1.payment_intents.cancel(cancelled.id)

    problems = []
    for event in sandbox.state.events:
        problems += conforms(event, "event")
        obj = event["data"]["object"]
        problems += conforms(obj, obj["object"])
    problems += conforms(client.v1.refunds.retrieve(refund.id).to_dict(), "refund")
    assert problems == []
    assert {e["type"] for e in sandbox.state.events} >= {
        "payment_intent.succeeded",
        "payment_intent.canceled",
        "charge.refunded",
        "charge.dispute.created",
    }


def test_stripe_errors_have_stripes_envelope(sandbox, client):
    with pytest.raises(stripe.InvalidRequestError) as unknown_param:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "usd", "colour": "red"})
    assert (unknown_param.value.code, unknown_param.value.param) == ("parameter_unknown", "colour")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(params={"amount": 100})
    assert missing.value.code == "parameter_missing"
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", "confirm": True, "payment_method": "pm_card_chargeDeclined"}
        )
    assert (declined.value.code, declined.value.http_status) == ("card_declined", 402)
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_wrong", base_addresses={"api": sandbox.url}).v1.events.list()


def test_an_idempotency_key_reused_with_other_parameters_is_refused(sandbox, client):
    params = {"amount": 100, "currency": "usd"}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k"})
    assert again.id == first.id and len(sandbox.state.intents) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params={**params, "amount": 200}, options={"idempotency_key": "k"})


def test_webhooks_are_signed_so_the_library_accepts_them(sandbox):
    request = urllib.request.Request(
        f"{sandbox.url}/v1/payment_intents",
        data=b"amount=100&currency=usd&metadata[order]=7&expand[0]=latest_charge",
        headers={"Authorization": "Bearer sk_test_shapes"},
    )
    with urllib.request.urlopen(request) as response:
        intent = json.loads(response.read())
    assert intent["metadata"] == {"order": "7"}
    body, header = sandbox.signed(sandbox.state.events[-1])
    event = stripe.Webhook.construct_event(body, header, "whsec_shapes")
    assert (event.type, event.data.object.id) == ("payment_intent.created", intent["id"])


def test_form_decoding_builds_nested_params():
    assert decode("a=1&metadata[x]=y&expand[0]=p&expand[1]=q&b[c][d]=e") == {
        "a": "1",
        "metadata": {"x": "y"},
        "expand": ["p", "q"],
        "b": {"c": {"d": "e"}},
    }
