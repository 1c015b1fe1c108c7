from core.exceptions import ApplicationError, NotFound


class SellerNotFound(NotFound):
    code = "seller_not_found"
    default_message = "No such seller."


class ApiKeyRevoked(ApplicationError):
    code = "api_key_revoked"
    status_code = 409
    default_message = "This API key is already revoked."
