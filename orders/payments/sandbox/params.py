"""Stripe's request encoding: ``application/x-www-form-urlencoded`` with nested keys
(``metadata[order]=12``, ``expand[0]=latest_charge``), checked against the parameters
the official spec lists for the endpoint (Stripe refuses unknown ones)."""

import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

SHAPES_FILE = Path(__file__).with_name("shapes.json")
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


@cache
def shapes() -> dict:
    return json.loads(SHAPES_FILE.read_text())


class RequestError(Exception):
    """A Stripe error response: ``{"error": {type, code, message, param}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str = "", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"type": type, "message": message, **({"code": code} if code else {}), **extra}


def decode(body: str) -> dict:
    """Form body (or query string) → nested dicts; ``a[0]``/``a[]`` keys become lists."""
    result: dict = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if match is None:
            raise RequestError(400, f"Invalid parameter name: {raw_key}", code="parameter_unknown", param=raw_key)
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise RequestError(400, f"Invalid parameter: {raw_key}", code="parameter_invalid", param=raw_key)
    return _lists(result)


def _lists(value):
    if isinstance(value, dict):
        converted = {key: _lists(sub) for key, sub in value.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return value


def validate(operation: str, params: dict) -> dict:
    """Refuse what Stripe refuses (unknown or missing parameters, a non-integer where an
    integer goes) and coerce integers and booleans, as the spec types them."""
    spec = shapes()["requests"][operation]
    allowed = spec["params"]
    for name in params:
        if name not in allowed:
            raise RequestError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
    for name in spec["required"]:
        if name not in params:
            raise RequestError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    coerced = dict(params)
    for name, value in params.items():
        kind = allowed[name]
        if kind == "integer":
            try:
                coerced[name] = int(value)
            except (TypeError, ValueError):
                raise RequestError(
                    400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
                ) from None
        elif kind == "boolean":
            if value not in ("true", "false"):
                raise RequestError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=name)
            coerced[name] = value == "true"
    return coerced
