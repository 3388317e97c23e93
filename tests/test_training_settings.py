"""TrainingSettings: the config's training section, refused when no network could train with it."""

import dataclasses

import pytest

from redoxscreen.training import TrainingSettings


@pytest.mark.parametrize(("change", "message"), [
    ({"label_scaling": "log"}, "label_scaling must be one of"),
    ({"lr_schedule": "cosine"}, "lr_schedule must be one of"),
    ({"mixed_precision": "yes"}, "mixed_precision must be true, false or auto"),
    ({"graph_weight_averaging": -0.1}, "graph_weight_averaging must be from 0 to 1, got -0.1"),
    ({"patience": 5, "validation_fraction": 0.0}, "patience > 0 needs .*validation_fraction > 0"),
])  # fmt: skip
def test_a_bad_value_is_refused_from_the_config_and_on_replace(change, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings.from_config(change)
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainingSettings(), **change)


def test_an_unknown_key_is_named_with_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown keys \['epochs'\]; known keys are .*'max_epochs'"):
        TrainingSettings.from_config({"epochs": 10})


def test_the_defaults_are_accepted_as_they_are():
    assert TrainingSettings.from_config({}) == TrainingSettings()
