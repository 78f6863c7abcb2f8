"""The portal's labels (served by the registry) name every rating scale."""

from pfdo_contracts.labels import LABELS

from pfdo_ratings.domain.rating import Scale


def test_every_scale_has_a_label() -> None:
    assert set(LABELS["rating_scales"]) == {s.value for s in Scale}
