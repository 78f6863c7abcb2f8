"""The two sides of a payment order, as the registry publishes them.

* ``payees``: each provider's payee details (name, ИНН, КПП, bank, БИК, settlement and
  correspondent accounts), from ``ProviderRegistered`` / ``ProviderDetailsChanged``.
* ``payers``: each municipality's payer details (the authorised body that pays for its
  certificates), from ``PayerDetailsChanged``.

``revision`` is the registry's: an event applies only if its revision is higher than the stored
one, so duplicates and reordered events change nothing (``service.parties``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = """
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        inn varchar(12) NOT NULL CHECK (inn ~ '^([0-9]{10}|[0-9]{12})$'),
        kpp char(9) CHECK (kpp ~ '^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$'),
        bank_name text NOT NULL,
        bik char(9) NOT NULL CHECK (bik ~ '^[0-9]{9}$'),
        account char(20) NOT NULL CHECK (account ~ '^[0-9]{20}$'),
        correspondent_account char(20) NOT NULL CHECK (correspondent_account ~ '^[0-9]{20}$'),
        revision integer NOT NULL CHECK (revision >= 1),
        changed_on date NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
"""


def upgrade() -> None:
    op.execute(f"CREATE TABLE payees (provider_id uuid PRIMARY KEY, {_COLUMNS})")
    op.execute(f"CREATE TABLE payers (municipality_code char(2) PRIMARY KEY CHECK (municipality_code ~ '^[0-9]{{2}}$'), "
               f"{_COLUMNS})")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS payers")
    op.execute("DROP TABLE IF EXISTS payees")
