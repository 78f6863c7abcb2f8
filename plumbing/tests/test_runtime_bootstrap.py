"""A cluster's bootstrap list must reach the broker client as separate hosts."""

from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.settings import ServiceSettings


def test_a_comma_separated_bootstrap_becomes_a_list_of_hosts() -> None:
    runtime = ServiceRuntime(
        ServiceSettings(service_name="billing", kafka_bootstrap="127.0.0.1:9092, 127.0.0.1:9094,127.0.0.1:9096"),
        configure_logs=False,
    )
    assert runtime.broker._connection_kwargs["bootstrap_servers"] == [
        "127.0.0.1:9092", "127.0.0.1:9094", "127.0.0.1:9096",
    ]
