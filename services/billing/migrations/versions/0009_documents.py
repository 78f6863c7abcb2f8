"""Billing's documents, stored and versioned; the certificate's number.

* ``certificates.number``: the registry's certificate number (``CertificateIssued.number``), printed
  on the invoices' appendix and the acts. Certificates billing learnt before this revision keep
  NULL until a certificate event carrying the number arrives again (a replay of the registry's
  topic fills it); a document that needs a missing number answers 409 ``document_facts_missing``.
* ``documents``: every document billing has issued — its number and version (unique together),
  kind, subject (provider, payer, month), the SHA-256 of its content, its canonical JSON and its
  PDF. Immutable: a changed fact makes a new version under the same number, the same facts find
  the stored one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE certificates ADD COLUMN number VARCHAR(10)",
    """
    CREATE TABLE documents (
        number VARCHAR(40) NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        kind VARCHAR(32) NOT NULL,
        provider_id UUID NOT NULL,
        payer_code VARCHAR(2) NOT NULL,
        month DATE NOT NULL,
        content_hash CHAR(64) NOT NULL,
        canonical_json TEXT NOT NULL,
        pdf BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (number, version)
    )
    """,
    "CREATE INDEX ix_documents_provider_month ON documents (provider_id, month)",
    "CREATE INDEX ix_documents_payer_month ON documents (payer_code, month)",
]

DOWNGRADE = [
    "DROP TABLE documents",
    "ALTER TABLE certificates DROP COLUMN number",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
