"""Providers: identifier rules per type and the moderation state machine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pfdo_registry.domain import provider as prov
from pfdo_registry.domain.errors import (
    IllegalTransition,
    InvalidIdentifier,
    InvalidProvider,
    RuleViolation,
)
from pfdo_registry.domain.provider import (
    Provider,
    ProviderStatus,
    ProviderType,
    must_accept_certificates,
    validate_provider_identifiers,
)

ORG = dict(inn="7707083893", ogrn="1027700132195", kpp="773601001")
IP = dict(inn="500100732259", ogrn="304500116000157", kpp=None)
ORG_TYPES = [ProviderType.MUNICIPAL_STATE_ORG, ProviderType.PRIVATE_ORG]
IP_TYPES = [ProviderType.ENTREPRENEUR_WITH_STAFF, ProviderType.ENTREPRENEUR_WITHOUT_STAFF]
P = ProviderStatus


def new_provider(ptype: ProviderType = ProviderType.PRIVATE_ORG, **ids) -> Provider:
    ids = ids or (ORG if ptype.is_organisation else IP)
    result = prov.register(
        provider_id="p-1",
        provider_type=ptype,
        name=" ООО «Детский центр «Орион» ",
        municipality_code="01",
        **ids,
    )
    assert result.event == "provider.registered"
    return result.state


class TestIdentifiers:
    @pytest.mark.parametrize("ptype", ORG_TYPES)
    def test_organisation(self, ptype: ProviderType) -> None:
        ids = validate_provider_identifiers(ptype, **{**ORG, "kpp": "7736ab001"})
        assert ids == prov.ProviderIdentifiers("7707083893", "1027700132195", "7736AB001")

    @pytest.mark.parametrize("ptype", IP_TYPES)
    def test_entrepreneur(self, ptype: ProviderType) -> None:
        ids = validate_provider_identifiers(ptype, **IP)
        assert ids == prov.ProviderIdentifiers("500100732259", "304500116000157", None)

    @pytest.mark.parametrize("ptype", IP_TYPES)
    def test_entrepreneur_blank_kpp_is_none(self, ptype: ProviderType) -> None:
        ids = validate_provider_identifiers(ptype, inn=IP["inn"], ogrn=IP["ogrn"], kpp="  ")
        assert ids.kpp is None

    @pytest.mark.parametrize("ptype", ORG_TYPES)
    @pytest.mark.parametrize("kpp", [None, "", " "])
    def test_organisation_needs_kpp(self, ptype: ProviderType, kpp) -> None:
        with pytest.raises(InvalidProvider) as info:
            validate_provider_identifiers(ptype, inn=ORG["inn"], ogrn=ORG["ogrn"], kpp=kpp)
        assert info.value.code == "kpp_required"

    @pytest.mark.parametrize("ptype", IP_TYPES)
    def test_entrepreneur_has_no_kpp(self, ptype: ProviderType) -> None:
        with pytest.raises(InvalidProvider) as info:
            validate_provider_identifiers(ptype, inn=IP["inn"], ogrn=IP["ogrn"], kpp="773601001")
        assert info.value.code == "kpp_not_allowed"

    @pytest.mark.parametrize(
        ("ptype", "ids", "code"),
        [
            (ProviderType.PRIVATE_ORG, {**ORG, "inn": IP["inn"]}, "inn_length"),
            (ProviderType.PRIVATE_ORG, {**ORG, "ogrn": IP["ogrn"]}, "ogrn_length"),
            (ProviderType.PRIVATE_ORG, {**ORG, "inn": "7707083894"}, "inn_checksum"),
            (ProviderType.PRIVATE_ORG, {**ORG, "kpp": "77360100"}, "kpp_length"),
            (ProviderType.MUNICIPAL_STATE_ORG, {**ORG, "ogrn": "1027700132194"}, "ogrn_checksum"),
            (ProviderType.ENTREPRENEUR_WITH_STAFF, {**IP, "inn": ORG["inn"]}, "inn_length"),
            (ProviderType.ENTREPRENEUR_WITH_STAFF, {**IP, "ogrn": ORG["ogrn"]}, "ogrnip_length"),
            (
                ProviderType.ENTREPRENEUR_WITHOUT_STAFF,
                {**IP, "ogrn": "304500116000158"},
                "ogrnip_checksum",
            ),
        ],
    )
    def test_wrong_identifier_for_type(self, ptype: ProviderType, ids: dict, code: str) -> None:
        with pytest.raises(InvalidIdentifier) as info:
            validate_provider_identifiers(ptype, **ids)
        assert info.value.code == code

    def test_unknown_type(self) -> None:
        with pytest.raises(ValueError):
            validate_provider_identifiers("school", **ORG)  # type: ignore[arg-type]

    def test_only_municipal_and_state_orgs_must_accept_certificates(self) -> None:
        assert must_accept_certificates(ProviderType.MUNICIPAL_STATE_ORG)
        others = [t for t in ProviderType if t is not ProviderType.MUNICIPAL_STATE_ORG]
        assert not any(must_accept_certificates(t) for t in others)

    def test_labels(self) -> None:
        assert all(t.label_ru for t in ProviderType)


class TestRegister:
    def test_new_provider(self) -> None:
        p = new_provider()
        assert p.status is P.NEW
        assert p.name == "ООО «Детский центр «Орион»"
        assert not p.is_active

    def test_name_required(self) -> None:
        with pytest.raises(InvalidProvider) as info:
            prov.register(
                provider_id="p", provider_type=ProviderType.PRIVATE_ORG, name=" ",
                municipality_code="01", **ORG,
            )
        assert info.value.code == "name_required"

    def test_municipality_code(self) -> None:
        with pytest.raises(InvalidProvider) as info:
            prov.register(
                provider_id="p", provider_type=ProviderType.PRIVATE_ORG, name="X",
                municipality_code="100", **ORG,
            )
        assert info.value.code == "municipality_code_invalid"


TABLE = {
    "approve": ({P.NEW}, P.ACTIVE, "provider.approved"),
    "refuse": ({P.NEW}, P.REFUSED, "provider.refused"),
    "suspend": ({P.ACTIVE}, P.SUSPENDED, "provider.suspended"),
    "reinstate": ({P.SUSPENDED}, P.ACTIVE, "provider.reinstated"),
    "exclude": ({P.ACTIVE, P.SUSPENDED}, P.EXCLUDED, "provider.excluded"),
}


def run(action: str, p: Provider):
    if action in ("approve", "reinstate"):
        return getattr(prov, action)(p)
    return getattr(prov, action)(p, reason="a reason")


@pytest.mark.parametrize(("action", "status"), [(a, s) for a in TABLE for s in ProviderStatus])
def test_transition_table(action: str, status: ProviderStatus) -> None:
    allowed, target, event = TABLE[action]
    p = replace(new_provider(), status=status)
    if status in allowed:
        result = run(action, p)
        assert (result.state.status, result.event) == (target, event)
    else:
        with pytest.raises(IllegalTransition) as info:
            run(action, p)
        assert info.value.code == "illegal_transition"


@pytest.mark.parametrize("action", ["refuse", "suspend", "exclude"])
def test_reasons_required(action: str) -> None:
    status = {"refuse": P.NEW, "suspend": P.ACTIVE, "exclude": P.ACTIVE}[action]
    p = replace(new_provider(), status=status)
    with pytest.raises(RuleViolation) as info:
        getattr(prov, action)(p, reason="  ")
    assert info.value.code == "reason_required"
    assert getattr(prov, action)(p, reason=" fraud ").state.status_reason == "fraud"


def test_life_of_a_provider() -> None:
    p = new_provider(ProviderType.ENTREPRENEUR_WITHOUT_STAFF)
    p = prov.approve(p).state
    assert p.is_active
    p = prov.suspend(p, reason="inspection").state
    p = prov.reinstate(p).state
    assert p.status_reason is None
    p = prov.exclude(p, reason="attendance fraud").state
    assert p.status is P.EXCLUDED
