from core.exceptions import ApplicationError, ValidationFailed


class TaxEngineError(ApplicationError):
    """The tax engine answered something that cannot be written on an order, or did
    not answer. The order is refused; nothing is written."""

    code = "tax_engine_error"
    status_code = 503
    default_message = "Tax could not be calculated for this order; try again later."


class InvalidExchangeRates(ValidationFailed):
    default_message = "The exchange rates have invalid rows."


class InvalidReportPeriod(ValidationFailed):
    default_message = "The report period is invalid."
