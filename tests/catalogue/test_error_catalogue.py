"""The error catalogue is complete and published: every code the source can raise (found by reading
the source) is registered with its status and texts, and the committed docs/ERRORS.md and
docs/errors.json are what the generator writes today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pfdo_plumbing.http import error_catalogue
from pfdo_plumbing.http.error_scan import scan, source_files
from pfdo_plumbing.http.errors import catalogue, entries, lookup

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "plumbing" / "src", *sorted((ROOT / "services").glob("*/src"))]


@pytest.fixture(scope="module")
def found():
    error_catalogue.load_services()
    return scan(source_files(SOURCES), ROOT)


def _service_of(where: str) -> str | None:
    parts = Path(where.split(":")[0]).parts
    return parts[1] if parts[0] == "services" else None


def test_the_scan_sees_the_raise_sites(found) -> None:
    # a broken scanner must not pass the completeness check vacuously
    assert len(found.literals) > 100
    assert {"not_found", "invalid_query", "insufficient_funds", "illegal_transition", "scale_missing",
            "scale_out_of_range"} <= set(found.literals)
    assert found.patterns, "the identifiers' f-string codes (<kind>_format) are seen as patterns"


def test_every_code_that_can_be_raised_is_in_the_catalogue(found) -> None:
    missing = {code: where[:3] for code, where in found.literals.items() if code not in catalogue()}
    assert not missing, f"register these codes (with their Russian and English texts): {missing}"


def test_every_dynamic_code_pattern_has_registered_codes(found) -> None:
    codes = list(catalogue())
    unmatched = {p: w for p, w in found.patterns.items() if not any(re.match(p, c) for c in codes)}
    assert not unmatched


def test_a_raise_site_and_the_catalogue_agree_on_the_status(found) -> None:
    wrong = []
    for f in found.codes:
        if f.status is None or f.pattern:
            continue
        known = lookup(f.code, _service_of(f.where))
        if known is not None and known.status != f.status:
            wrong.append((f.code, f.where, f.status, known.status))
    assert not wrong


def test_every_entry_has_both_languages() -> None:
    error_catalogue.load_services()
    for entry in entries():
        assert entry.ru.strip() and entry.en.strip(), entry.code
        assert re.search("[а-яё]", entry.ru, re.IGNORECASE), f"{entry.code}: the Russian text is not Russian"
        assert 400 <= entry.status < 600


@pytest.mark.parametrize("relative", [error_catalogue.MARKDOWN, error_catalogue.JSON], ids=str)
def test_the_committed_catalogue_is_current(relative: Path) -> None:
    generated = error_catalogue.rendered()[relative]
    committed = (ROOT / relative).read_text(encoding="utf-8")
    assert committed == generated, f"{relative} is stale: run `make errors`"


def test_the_scanner_finds_a_new_raise_site(tmp_path: Path) -> None:
    source = tmp_path / "svc.py"
    source.write_text(
        "class Oops(DomainError):\n    pass\n"
        "def f(kind):\n"
        "    raise ProblemError(409, 'brand_new_code', 'x')\n"
        "    raise Oops('another_new_code', 'y')\n"
        "    raise Oops(f'{kind}_odd', 'z')\n"
        "    return [{'field': 'a', 'code': 'item_code'}]\n"
        "def _value_error(v):\n"
        "    if v:\n"
        "        return 'returned_code'\n"
        "    return None\n",
        encoding="utf-8",
    )
    result = scan([source])
    assert set(result.literals) == {"brand_new_code", "another_new_code", "item_code", "returned_code"}
    assert [f.status for f in result.codes if f.code == "brand_new_code"] == [409]
    assert list(result.patterns) == ["^[a-z0-9_]+_odd$"]


def test_every_template_renders_without_leftover_markup() -> None:
    error_catalogue.load_services()
    for entry in entries():
        for language in ("ru", "en"):
            text = entry.message(language, {})
            assert not re.search(r"[{}\[\]]", text), (entry.code, language, text)


def test_an_illegal_move_reads_in_russian_with_the_status_label() -> None:
    error_catalogue.load_services()
    from pfdo_registry.domain.errors import IllegalTransition

    error = IllegalTransition("certificate", "suspended", "issue")
    known = lookup(error.code, "registry")
    assert known.message("ru", error.details) == "Сертификат в статусе «Приостановлен»: действие «выдать» сейчас недоступно."
    assert known.message("en", error.details) == "The certificate (status: Suspended) does not allow this now: issue."


def test_the_gateway_answers_with_the_catalogue_texts() -> None:
    """nginx cannot read the catalogue: its template writes each of its own problem bodies out, in
    Russian and in English. Each must be the catalogue's gateway entry, and each code it answers
    with must be one."""
    from pfdo_devstack.gateway import problem_body

    template = (ROOT / "deploy" / "gateway" / "nginx.conf.template").read_text(encoding="utf-8")
    gateway_codes = {e.code for e in entries() if e.service == "gateway"}
    assert len(gateway_codes) >= 10
    answered = set(re.findall(r"return \d{3} '\{[^']*\"code\":\"([a-z_]+)\"", template))
    assert answered == gateway_codes, answered ^ gateway_codes
    stale = [(code, language) for code in sorted(gateway_codes) for language in ("ru", "en")
             if f"'{problem_body(code, language)}'" not in template]
    assert not stale, f"the template's texts differ from the catalogue (write them out again): {stale}"
    assert gateway_codes <= {e.code for e in error_catalogue.published() if e.service == "gateway"}, \
        "the gateway's codes are published in docs/ERRORS.md"
