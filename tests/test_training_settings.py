"""TrainingSettings: the config's training section, refused when no network could train with it.
LabelScaler: the labels' scaling, refused when there is nothing finite to scale."""

import dataclasses
import logging
import os

import numpy as np
import pandas as pd
import pytest

from redoxscreen.training import (
    LabelScaler,
    TrainingSettings,
    check_gpus_seen,
    configure_tensorflow,
    fit_network,
    learning_rate_callbacks,
    predict,
    set_threads,
    training_read_by,
)


@pytest.mark.parametrize(("change", "message"), [
    ({"label_scaling": "log"}, "label_scaling must be one of"),
    ({"lr_schedule": "cosine"}, "lr_schedule must be one of"),
    ({"mixed_precision": "yes"}, "mixed_precision must be true, false or auto"),
    ({"graph_weight_averaging": -0.1}, "graph_weight_averaging must be from 0 to 1, got -0.1"),
    ({"patience": 5, "validation_fraction": 0.0}, "patience > 0 needs .*validation_fraction > 0"),
    ({"lr_schedule": "reduce_on_plateau", "patience": 0, "validation_fraction": 0.0},
     "reduce_on_plateau watches the inner validation split: it needs .*validation_fraction > 0"),
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


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_labels_scale_to_zero_mean_or_the_unit_interval_and_back(kind):
    y = np.array([1.0, 2.0, 4.0])
    scaler = LabelScaler.fit(y, kind)
    scaled = scaler.transform(y)
    if kind == "standard":
        assert scaled.mean() == pytest.approx(0.0) and scaled.std() == pytest.approx(1.0)
    else:
        assert (scaled.min(), scaled.max()) == pytest.approx((0.0, 1.0))
    assert scaler.inverse(scaled) == pytest.approx(y)


@pytest.mark.parametrize(
    ("labels", "message"),
    [([], "nothing to train on"), ([1.0, np.nan, np.inf], "2 are not")],
)
def test_no_labels_or_non_finite_labels_are_refused_before_training(labels, message):
    with pytest.raises(ValueError, match=message):
        LabelScaler.fit(np.array(labels), "standard")


def test_a_decay_that_would_start_after_the_last_epoch_is_logged(caplog):
    settings = TrainingSettings(lr_schedule="exponential_decay", max_epochs=3)
    with caplog.at_level("WARNING", logger="redoxscreen.training"):
        assert len(learning_rate_callbacks(settings)) == 1
    assert "starts at decay_start_epoch 500, not before max_epochs 3" in caplog.text


def test_a_split_held_out_with_no_early_stopping_is_logged(caplog):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 3, (100, 16)).astype("float32"), rng.normal(size=100)
    settings = TrainingSettings(max_epochs=2, patience=0, validation_fraction=0.1)
    with caplog.at_level("WARNING", logger="redoxscreen.training"):
        fit = fit_network(x, y, (8,), settings, seed=0)
    assert (fit.n_fit, fit.n_stop) == (90, 10)
    assert "patience 0: 10 training molecules (validation_fraction 0.1) are held out" in caplog.text


def test_watching_held_out_molecules_leaves_the_fingerprint_network_as_it_was():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 3, (120, 16)).astype("float32"), rng.normal(size=120)
    settings = TrainingSettings(max_epochs=6, patience=2, validation_fraction=0.2, dropout=0.1)
    plain = fit_network(x[20:], y[20:], (8,), settings, seed=0)
    watched = fit_network(x[20:], y[20:], (8,), settings, seed=0, held_out=(x[:20], y[:20]))
    curve = watched.history.pop("held_out_mae")
    assert (watched.history.pop("held_out_seconds") > 0).all()  # left out of fit.seconds
    pd.testing.assert_frame_equal(watched.history, plain.history)
    weights = zip(plain.model.get_weights(), watched.model.get_weights(), strict=True)
    assert all(np.array_equal(a, b) for a, b in weights)
    assert len(curve) == len(plain.history) and (curve > 0).all()
    last = TrainingSettings(max_epochs=3, patience=0, validation_fraction=0.0)
    fit = fit_network(x[20:], y[20:], (8,), last, seed=0, held_out=(x[:20], y[:20]))
    held_out_mae = np.abs(predict(fit.model, fit.scaler, x[:20]) - y[:20]).mean()
    assert fit.history["held_out_mae"].iloc[-1] == pytest.approx(held_out_mae, rel=1e-5)


def test_threads_asked_for_after_tensorflow_started_are_a_warning_not_an_error(caplog):
    import tensorflow as tf

    assert float(tf.constant(1.0) + 1.0) == 2.0  # TensorFlow runs
    running = tf.config.threading.get_intra_op_parallelism_threads()
    with caplog.at_level(logging.WARNING, logger="redoxscreen.training"):
        assert set_threads(running + 3, inter_op=1) is False
    assert "TensorFlow already started; it keeps its" in caplog.text
    assert tf.config.threading.get_intra_op_parallelism_threads() == running
    said = configure_tensorflow(running + 3, TrainingSettings(mixed_precision=False))
    assert said == f"CPU ({running} threads), float32"  # the threads it runs on, not those asked


def test_a_job_reads_the_decay_keys_only_under_the_decaying_schedule():
    training = dataclasses.asdict(TrainingSettings())
    assert training["lr_schedule"] == "constant"
    read = training_read_by(training, learned=False)
    assert "l2" in read and "decay_rate" not in read and "decay_start_epoch" not in read
    decaying = training | {"lr_schedule": "exponential_decay"}
    read = training_read_by(decaying, learned=False)
    assert read["decay_rate"] == 0.995 and read["decay_start_epoch"] == 500
    assert "decay_rate" not in training_read_by(decaying, learned=True)  # message passing


def test_a_job_given_a_gpu_that_tensorflow_cannot_see_is_refused(monkeypatch, tmp_path, caplog):
    """A GPU held unused while the job trains on its CPUs (TensorFlow's CPU build on a GPU
    node) is refused, unless allowed; a machine's GPUs that no one gave the job are warned of."""
    monkeypatch.delenv("REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS", raising=False)
    with pytest.raises(RuntimeError) as refusal:
        check_gpus_seen("1", built_with_cuda=False)
    assert str(refusal.value) == (
        "this job was given GPU 1 (CUDA_VISIBLE_DEVICES), but TensorFlow sees none: it is built "
        "for CPUs only (tensorflow-cpu, which `make venv` installs); run `make gpu` "
        "(TensorFlow's CUDA build) where the jobs run, or set grid.resources.gpu and "
        "final.resources.gpu to 0 to train on CPUs (or REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS=1 "
        "to train on its CPUs)"
    )
    with pytest.raises(RuntimeError, match="built with CUDA but finds no device it can use"):
        check_gpus_seen("0", built_with_cuda=True)
    for hidden in ("-1", "NoDevFiles", ""):  # the usual ways to give no GPU: nothing to refuse
        check_gpus_seen(hidden, built_with_cuda=False)
    monkeypatch.setenv("REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS", "1")
    with caplog.at_level(logging.WARNING):
        check_gpus_seen("0", built_with_cuda=False)
    assert "REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS=1: training on its CPUs" in caplog.text
    caplog.clear()
    fake = tmp_path / "nvidia-smi"  # a machine with two GPUs and nothing set before the job
    fake.write_text("#!/bin/sh\necho 'GPU 0: A'\necho 'GPU 1: B'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with caplog.at_level(logging.WARNING):
        check_gpus_seen(None, built_with_cuda=False)
        check_gpus_seen("", built_with_cuda=False)  # the rule asked for none: nothing to say
    assert caplog.text.count("this machine has 2 GPU(s), but TensorFlow sees none") == 1
