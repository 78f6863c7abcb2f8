"""The portal's only way to the platform's data: the gateway's public API."""

from .client import GatewayApi
from .problems import ApiError

__all__ = ["ApiError", "GatewayApi"]
