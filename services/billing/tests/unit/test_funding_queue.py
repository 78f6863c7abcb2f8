"""When a funding slot frees, and which queue positions change."""

import pytest

from pfdo_billing.domain.funding_queue import frees_funding_slot, position_updates

UNUSED = dict(funding=True, certificate_active=True, activated_this_period=True, live_paid_contracts=0,
              reserved_kopecks=0, spent_kopecks=0)


def test_an_activation_whose_request_ended_before_start_frees_its_slot() -> None:
    assert frees_funding_slot(**UNUSED)


def test_money_reserved_or_spent_or_a_live_contract_keeps_the_slot() -> None:
    assert not frees_funding_slot(**{**UNUSED, "reserved_kopecks": 1})
    assert not frees_funding_slot(**{**UNUSED, "spent_kopecks": 1})
    assert not frees_funding_slot(**{**UNUSED, "live_paid_contracts": 1})


def test_a_certificate_funded_before_the_period_keeps_its_slot_while_active() -> None:
    assert not frees_funding_slot(**{**UNUSED, "activated_this_period": False})


def test_a_closed_or_expired_certificate_that_used_nothing_frees_its_slot() -> None:
    assert frees_funding_slot(**{**UNUSED, "activated_this_period": False, "certificate_active": False})
    assert not frees_funding_slot(**{**UNUSED, "certificate_active": False, "spent_kopecks": 10})


def test_an_accounting_certificate_holds_no_slot() -> None:
    assert not frees_funding_slot(**{**UNUSED, "funding": False})


def test_negative_figures_are_bugs() -> None:
    with pytest.raises(ValueError):
        frees_funding_slot(**{**UNUSED, "reserved_kopecks": -1})


def test_position_updates_name_only_the_requests_that_moved() -> None:
    published = {"a": 1, "b": 2, "c": 3, "d": 4}
    # "b" left the queue: c and d move up, a stays first
    assert position_updates(published, ["a", "c", "d"]) == [("c", 2), ("d", 3)]
    # the head was admitted: everyone moves up
    assert position_updates(published, ["b", "c", "d"]) == [("b", 1), ("c", 2), ("d", 3)]
    # a request never told its position is told now
    assert position_updates({"a": 1}, ["a", "e"]) == [("e", 2)]
    assert position_updates(published, ["a", "b", "c", "d"]) == []
