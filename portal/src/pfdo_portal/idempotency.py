"""The ``Idempotency-Key`` of a form: made when the form is drawn and carried in a hidden field, so
a form sent twice (a double click, a reload) is one change at the API. The portal makes its keys as
UUIDs; a field carrying anything else (8–64 letters, digits and hyphens) was not made here and is
replaced by a fresh key."""

from __future__ import annotations

import re
import uuid

_OUR_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def new_key() -> str:
    """A fresh key for a form about to be drawn."""
    return str(uuid.uuid4())


def submitted_key(value: object) -> str:
    """The key the form carried, or a fresh one when it carried none of the portal's shape."""
    return value if isinstance(value, str) and _OUR_KEY.match(value) else new_key()
