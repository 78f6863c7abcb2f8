"""A small reader of the 1CClientBankExchange text file, for the tests that read the export back:
the header's keys (a key may repeat: ``РасчСчет``) and one dict per ``СекцияДокумент`` section,
checking the structure as it goes (Windows-1251, CRLF, sections closed, ``КонецФайла`` last)."""

from __future__ import annotations


def parse_bank_exchange(raw: bytes) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """The header (key -> values, a key may repeat: РасчСчет) and the document sections."""
    lines = raw.decode("cp1251").split("\r\n")
    assert lines[0] == "1CClientBankExchange"
    assert lines[-2:] == ["КонецФайла", ""], "the file ends with КонецФайла and a line break"
    header: dict[str, list[str]] = {}
    sections: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines[1:-2]:
        if line == "КонецДокумента":
            assert current is not None, "КонецДокумента without СекцияДокумент"
            sections.append(current)
            current = None
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        if key == "СекцияДокумент":
            assert current is None, "a section opened inside another"
            current = {key: value}
        elif current is not None:
            assert key not in current, f"{key} twice in one section"
            current[key] = value
        else:
            header.setdefault(key, []).append(value)
    assert current is None, "the last section is not closed"
    return header, sections
