"""Every topic a service handles is one the contracts list it as consuming, and the other way
round.

At start-up a service creates the topics it produces and those the contracts say it consumes
(``ensure_topics``), with the contract's partitions and replication; topics are never created
by subscribing. A handler on a topic its contract does not declare would wait for the topic's
producer to create it. A topic the contracts list a service as consuming but the service does
not read misleads the catalogue and AsyncAPI readers, and ``up`` would wait forever for the
service's group to read it. So the two lists must agree.
"""

from __future__ import annotations

import importlib

import pytest

from pfdo_contracts.topics import ALL_TOPICS

SERVICES = ("registry", "navigator", "billing", "ratings")


def declared(service: str) -> set[str]:
    return {t.name for t in ALL_TOPICS if service in t.consumers}


def undeclared(service: str, handled: set[str]) -> set[str]:
    """The handled topics the contracts do not list ``service`` as consuming."""
    return handled - declared(service)


def handled_by(service: str) -> set[str]:
    app = importlib.import_module(f"pfdo_{service}.main").build_app()  # builds, connects to nothing
    return set(app.state.runtime.consumer.topics)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_handles_only_topics_its_contract_lists_it_consuming(service: str) -> None:
    assert not undeclared(service, handled_by(service)), f"{service} handles topics its contract does not declare"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_handles_every_topic_its_contract_lists_it_consuming(service: str) -> None:
    assert declared(service) <= handled_by(service), f"{service} does not read topics its contract says it consumes"


def test_the_check_names_a_topic_handled_without_being_declared() -> None:
    ratings_topics = {t.name for t in ALL_TOPICS if "ratings" in t.consumers}
    foreign = next(t.name for t in ALL_TOPICS if "ratings" not in t.consumers)
    assert undeclared("ratings", ratings_topics | {foreign}) == {foreign}
