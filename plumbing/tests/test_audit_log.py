"""The audit log is append-only in the database itself."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.db import Database
from pfdo_plumbing.tables import AUDIT

pytestmark = pytest.mark.integration


async def test_audit_rows_are_written_and_cannot_be_changed(databases) -> None:  # noqa: ANN001
    db = Database(await databases.fresh("ratings"), pool_size=1)
    try:
        who = Principal(sub="op-1", role=Role.MUNICIPAL_OPERATOR, municipality="01")
        async with db.transaction() as s:
            await audit.record(s, who, "certificate.suspend", "certificate", "c-1", municipality="01",
                               details={"reason": "operator_decision"})
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
                async with db.transaction() as s:
                    await s.execute(text(statement))
        async with db.transaction() as s:
            row = (await s.execute(select(AUDIT))).mappings().one()
            assert (row["actor_sub"], row["action"], row["details"]) == ("op-1", "certificate.suspend", {"reason": "operator_decision"})
            assert await s.scalar(select(func.count()).select_from(AUDIT)) == 1
    finally:
        await db.dispose()
