"""A form's Idempotency-Key: the one it carried when it has the portal's shape, else a fresh one."""

from pfdo_portal.idempotency import new_key, submitted_key


def test_a_key_the_portal_made_is_kept() -> None:
    key = new_key()
    assert submitted_key(key) == key
    assert submitted_key("k" * 32) == "k" * 32


def test_anything_else_gets_a_fresh_key() -> None:
    for carried in (None, "", "short", "k" * 65, "кириллица-ключ", "a key with spaces", ["x" * 10]):
        fresh = submitted_key(carried)
        assert fresh != carried and submitted_key(fresh) == fresh
    assert new_key() != new_key()
