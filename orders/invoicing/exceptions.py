from core.exceptions import Conflict, NotFound, ValidationFailed


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"
    default_message = "No such invoice."


class CreditNoteNotFound(NotFound):
    code = "credit_note_not_found"
    default_message = "No such credit note."


class InvoiceNotAllowed(Conflict):
    code = "invoice_not_allowed"
    default_message = "This order cannot be invoiced in its current state."


class CreditExceedsInvoice(Conflict):
    code = "credit_exceeds_invoice"
    default_message = "The refund is larger than what is left to credit on the invoice."


class InvalidRefund(ValidationFailed):
    default_message = "The refund has invalid fields."
