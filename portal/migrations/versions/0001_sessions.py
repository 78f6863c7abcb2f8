"""The portal's sessions: who is signed in, their tokens (sealed; never sent to the browser), the CSRF
token of their forms, and a sign-in under way (state, nonce, PKCE verifier).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from pfdo_plumbing.migrations import execute_all

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_all([
        """
        CREATE TABLE sessions (
            id_hash       text PRIMARY KEY,
            created_at    timestamptz NOT NULL DEFAULT now(),
            last_seen_at  timestamptz NOT NULL DEFAULT now(),
            expires_at    timestamptz NOT NULL,
            csrf_token    text NOT NULL,
            login         jsonb,
            person        jsonb,
            tokens        jsonb
        )
        """,
        "COMMENT ON COLUMN sessions.id_hash IS 'SHA-256 of the cookie value: the table alone opens no session'",
        "COMMENT ON COLUMN sessions.login IS 'a sign-in under way: state, nonce, code verifier, page to return to'",
        "COMMENT ON COLUMN sessions.person IS 'who signed in (sub, role, municipality, provider_id, name)'",
        "COMMENT ON COLUMN sessions.tokens IS 'access, refresh and ID tokens, sealed (Fernet), and the access token expiry'",
        "CREATE INDEX sessions_expires_at ON sessions (expires_at)",
    ])


def downgrade() -> None:
    execute_all(["DROP TABLE sessions"])
