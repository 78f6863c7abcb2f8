from pfdo_plumbing.logging import REDACTED, redact


def test_personal_fields_and_snils_numbers_are_redacted() -> None:
    event = {
        "event": "application", "surname": "Иванов", "child": {"first_name": "Анна", "birth_date": "2015-01-01"},
        "note": "СНИЛС 112-233-445 95 given", "certificate_number": "4801000001",
    }
    out = redact(event)
    assert out["surname"] == REDACTED
    assert out["child"] == {"first_name": REDACTED, "birth_date": REDACTED}
    assert "112-233-445 95" not in out["note"]
    assert out["certificate_number"] == "4801000001"
