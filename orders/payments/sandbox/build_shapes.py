"""Regenerate ``shapes.json`` from Stripe's official OpenAPI spec and fixtures
(github.com/stripe/openapi, MIT): the example objects the sandbox starts each resource
from, the parameters each endpoint it serves accepts, and the required fields and
types of each resource it returns.

    python -m orders.payments.sandbox.build_shapes <folder with stripe_spec3_subset_*.json and stripe_fixtures3.json>
"""

import json
import sys
from pathlib import Path

RESOURCES = ("payment_intent", "charge", "refund", "dispute", "event")
ENDPOINTS = (
    ("post", "/v1/payment_intents"),
    ("get", "/v1/payment_intents/{intent}"),
    ("post", "/v1/payment_intents/{intent}/confirm"),
    ("post", "/v1/payment_intents/{intent}/capture"),
    ("post", "/v1/payment_intents/{intent}/cancel"),
    ("post", "/v1/refunds"),
    ("get", "/v1/refunds"),
    ("get", "/v1/refunds/{refund}"),
    ("get", "/v1/charges/{charge}"),
    ("get", "/v1/events"),
    ("get", "/v1/events/{id}"),
)
OUT = Path(__file__).with_name("shapes.json")


def _type(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return {"type": "object", "nullable": False}
    if "anyOf" in schema:
        types = sorted({_type(option, components)["type"] for option in schema["anyOf"]})
        return {"type": "|".join(types), "nullable": bool(schema.get("nullable"))}
    return {"type": schema.get("type", "object"), "nullable": bool(schema.get("nullable"))}


def build(folder: Path) -> dict:
    spec_file = next(folder.glob("stripe_spec3_subset_*.json"))
    spec = json.loads(spec_file.read_text())
    fixtures = json.loads((folder / "stripe_fixtures3.json").read_text())["resources"]
    components = spec["components"]["schemas"]
    schemas = {
        name: {
            "required": components[name].get("required", []),
            "properties": {key: _type(value, components) for key, value in components[name]["properties"].items()},
        }
        for name in RESOURCES
    }
    requests = {}
    for method, path in ENDPOINTS:
        operation = spec["paths"][path][method]
        if method == "post":
            body = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded", {})
            schema = body.get("schema", {})
            params = {key: _type(value, components)["type"] for key, value in schema.get("properties", {}).items()}
            required = schema.get("required", [])
        else:
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            params = {p["name"]: _type(p.get("schema", {}), components)["type"] for p in query}
            required = [p["name"] for p in query if p.get("required")]
        requests[f"{method.upper()} {path}"] = {"params": params, "required": required}
    return {
        "source": f"github.com/stripe/openapi (MIT): {spec_file.name} and stripe_fixtures3.json",
        "fixtures": {name: fixtures[name] for name in RESOURCES},
        "requests": requests,
        "schemas": schemas,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(Path(sys.argv[1])), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
