"""Bank details of the two sides of a payment order.

* ``providers`` (the payee) gain the bank's correspondent account and ``details_revision``
  (1 at registration, +1 at each change of the payee details; events carry it so that consumers
  keep the newest). Rows registered before this revision have no correspondent account: NULL
  until the provider sets its details again.
* ``municipalities`` (the payer of their certificates) gain the payer details: the authorised
  body's name, ИНН, КПП, bank, БИК, settlement and correspondent accounts, ``payer_revision``
  (0 = not set yet) and the day of the last change. All of them set, or none.

Checksums (ИНН, the accounts' control keys against the БИК) are the application's; the table
checks the formats.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACCOUNT = "'^[0-9]{20}$'"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE providers
            ADD COLUMN correspondent_account char(20) CHECK (correspondent_account ~ {_ACCOUNT}),
            ADD COLUMN details_revision integer NOT NULL DEFAULT 1 CHECK (details_revision >= 1)
    """)
    op.execute(f"""
        ALTER TABLE municipalities
            ADD COLUMN payer_title text CHECK (length(btrim(payer_title)) > 0),
            ADD COLUMN payer_inn char(10) CHECK (payer_inn ~ '^[0-9]{{10}}$'),
            ADD COLUMN payer_kpp char(9) CHECK (payer_kpp ~ '^[0-9]{{4}}[0-9A-Z]{{2}}[0-9]{{3}}$'),
            ADD COLUMN payer_bank_name text CHECK (length(btrim(payer_bank_name)) > 0),
            ADD COLUMN payer_bik char(9) CHECK (payer_bik ~ '^[0-9]{{9}}$'),
            ADD COLUMN payer_account char(20) CHECK (payer_account ~ {_ACCOUNT}),
            ADD COLUMN payer_correspondent_account char(20) CHECK (payer_correspondent_account ~ {_ACCOUNT}),
            ADD COLUMN payer_changed_on date,
            ADD COLUMN payer_revision integer NOT NULL DEFAULT 0 CHECK (payer_revision >= 0),
            ADD CONSTRAINT municipalities_payer_all_or_none CHECK (
                (payer_revision = 0) = (payer_title IS NULL) AND
                num_nulls(payer_title, payer_inn, payer_kpp, payer_bank_name, payer_bik, payer_account,
                          payer_correspondent_account, payer_changed_on) IN (0, 8)
            )
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE municipalities
            DROP CONSTRAINT IF EXISTS municipalities_payer_all_or_none,
            DROP COLUMN IF EXISTS payer_revision, DROP COLUMN IF EXISTS payer_changed_on,
            DROP COLUMN IF EXISTS payer_correspondent_account, DROP COLUMN IF EXISTS payer_account,
            DROP COLUMN IF EXISTS payer_bik, DROP COLUMN IF EXISTS payer_bank_name,
            DROP COLUMN IF EXISTS payer_kpp, DROP COLUMN IF EXISTS payer_inn, DROP COLUMN IF EXISTS payer_title
    """)
    op.execute("""
        ALTER TABLE providers
            DROP COLUMN IF EXISTS details_revision, DROP COLUMN IF EXISTS correspondent_account
    """)
