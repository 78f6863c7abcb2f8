"""The HTTP API. Importing it registers the service's error codes first (routes name them)."""

from . import error_codes as error_codes  # noqa: F401
