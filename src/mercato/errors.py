"""One root exception, with subclasses named for what the caller can do about it.

Domain code raises these; the HTTP layer maps them to status codes in one place.
"""


class MercatoError(Exception):
    """Root of every error mercato raises on purpose."""


class InvalidInput(MercatoError, ValueError):
    """The caller sent something malformed; fix the input and retry.

    ``field`` names the offending input (a parameter or JSON field) when one can be named.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(MercatoError, LookupError):
    """The named object does not exist."""


class Conflict(MercatoError):
    """The request contradicts stored state (e.g. an id reused with other content)."""


class NotReady(MercatoError):
    """The object exists but cannot answer yet (e.g. a model not fitted)."""


class Unavailable(MercatoError):
    """A backend (database, cache) cannot be reached; retrying later may work."""
