"""OpenAPI post-processing: every operation documents the one error shape."""

ERROR_COMPONENT = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine code, e.g. insufficient_stock."},
        "message": {"type": "string", "description": "For people."},
        "details": {"type": "object", "additionalProperties": True, "description": "Per-field messages or data."},
    },
}
ERROR_STATUSES = {
    "400": "Invalid input; `details` maps field paths to messages. Nothing was written.",
    "401": "No API key, or an invalid or revoked one.",
    "403": "The API key lacks the scope for this operation.",
    "404": "No such object for this seller.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflicts with the current state (e.g. insufficient stock, an illegal transition).",
    "415": "Unsupported media type: send application/json.",
    "422": "The request cannot be processed as sent (e.g. an Idempotency-Key reused with another body).",
    "429": "Rate limit exceeded; see the Retry-After header.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {"description": description, "content": reference})
                if "content" not in responses[status]:
                    responses[status]["content"] = reference
    return result
