from core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"
    default_message = "No such shipment."


class InvalidShipmentTransition(Conflict):
    code = "invalid_shipment_transition"

    def __init__(self, *, current: str, requested: str, message: str | None = None):
        super().__init__(
            message or f"A shipment that is {current} cannot become {requested}.",
            details={"current": current, "requested": requested},
        )


class ScanRefused(ApplicationError):
    """A scanned item is not in the box's list, or more units than it needs."""

    code = "scan_refused"
    status_code = 422
    default_message = "This item does not belong in this shipment."


class PackingIncomplete(Conflict):
    code = "packing_incomplete"
    default_message = "Some items have not been scanned into the box yet."


class LabelConflict(Conflict):
    code = "label_conflict"


class CarrierError(ApplicationError):
    """A carrier refused or failed; its own error is translated, never shown raw."""

    code = "carrier_error"
    status_code = 502
    default_message = "The carrier could not handle the request."


class NoRateAvailable(Conflict):
    code = "no_rate_available"
    default_message = "No carrier service can ship this parcel to this address in the promised time."


class InvalidShipping(ValidationFailed):
    default_message = "The shipping request has invalid fields."


class NothingToPick(Conflict):
    code = "nothing_to_pick"
    default_message = "Nothing is left to pick in this shipment: the order changed since it was planned."


class UnknownTracking(NotFound):
    code = "unknown_tracking"
    default_message = "No shipment has this tracking reference."


class PushRejected(ApplicationError):
    code = "push_rejected"
    status_code = 400
    default_message = "The carrier push could not be verified."
