"""Event models, one module per producing service. Importing this package registers them all."""

from . import billing, navigator, ratings, registry, treasury

__all__ = ["billing", "navigator", "ratings", "registry", "treasury"]
