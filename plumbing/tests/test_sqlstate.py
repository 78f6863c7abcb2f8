"""The SQLSTATE of a database error, whichever layer raised it."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from pfdo_plumbing.db import sqlstate_of


class _DriverError(Exception):
    """Stands for SQLAlchemy's adapted driver error, which carries ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("failed")
        self.sqlstate = sqlstate


def test_the_code_of_an_error_wrapped_by_sqlalchemy_is_found_on_its_original() -> None:
    wrapped = sa_exc.DBAPIError("COMMIT", {}, _DriverError("PFS01"))
    assert sqlstate_of(wrapped) == "PFS01"


def test_the_code_of_a_driver_error_and_of_its_cause() -> None:
    error = asyncpg.exceptions.UniqueViolationError("duplicate key")
    assert sqlstate_of(error) == "23505"
    try:
        try:
            raise error
        except asyncpg.PostgresError as cause:
            raise RuntimeError("while applying") from cause
    except RuntimeError as chained:
        assert sqlstate_of(chained) == "23505"


@pytest.mark.parametrize("exc", [ValueError("not from the server"), ConnectionResetError(), TimeoutError()])
def test_errors_that_did_not_come_from_the_server_have_none(exc: BaseException) -> None:
    assert sqlstate_of(exc) is None
