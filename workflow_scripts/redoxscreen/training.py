"""Training one network on one fold, with labels scaled on the training molecules only.

A fingerprint network's early stopping watches an inner validation split drawn from the
training folds, so the held-out fold that the reported MAE comes from never steers training.
A message-passing network (features of kind ``graph``) trains a fixed number of epochs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from redoxscreen import descriptors, graphs
from redoxscreen.features import FingerprintSpec, read_store
from redoxscreen.folds import CALIBRATION_FOLD
from redoxscreen.gpu_slots import assign_gpu, gpu_count
from redoxscreen.metrics import regression_metrics
from redoxscreen.tables import atomic_path, write_json, write_table

log = logging.getLogger(__name__)

LABEL_SCALINGS = ("standard", "minmax")
LR_SCHEDULES = ("constant", "exponential_decay", "reduce_on_plateau")


@dataclass(frozen=True)
class TrainingSettings:
    """How a network is trained; every field is a key of the config's ``training`` section."""

    fingerprint: str = "count"
    descriptors: bool = False
    l2: float = 1e-5
    dropout: float = 0.1
    learning_rate: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 300
    patience: int = 20
    label_scaling: str = "standard"
    lr_schedule: str = "constant"
    decay_start_epoch: int = 500
    decay_rate: float = 0.995
    validation_fraction: float = 0.1
    mixed_precision: bool | str = "auto"
    deterministic: bool = True
    graph_epochs: int = 50  # message-passing networks: epochs (no early stopping) and batch
    graph_batch_size: int = 16  # chemprop: 64; 16 fits small sets better, 64 runs large faster
    graph_weight_averaging: float = 0.25  # mean of the weights over this last part of the epochs

    def __post_init__(self) -> None:
        """Refuse values no network can train with, also on ``dataclasses.replace``."""
        if self.label_scaling not in LABEL_SCALINGS:
            raise ValueError(f"training.label_scaling must be one of {LABEL_SCALINGS}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"training.lr_schedule must be one of {LR_SCHEDULES}")
        if self.mixed_precision not in (True, False, "auto"):
            raise ValueError("training.mixed_precision must be true, false or auto")
        if not 0 <= self.graph_weight_averaging <= 1:
            raise ValueError("training.graph_weight_averaging must be from 0 to 1, "
                             f"got {self.graph_weight_averaging}")  # fmt: skip
        if self.patience > 0 and self.validation_fraction <= 0:
            raise ValueError("training.patience > 0 needs training.validation_fraction > 0")
        if self.lr_schedule == "reduce_on_plateau" and self.validation_fraction <= 0:
            raise ValueError(
                "training.lr_schedule reduce_on_plateau watches the inner validation split: "
                "it needs training.validation_fraction > 0"
            )

    @classmethod
    def from_config(cls, entry: dict) -> TrainingSettings:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(entry) - known)
        if unknown:
            raise KeyError(f"training: unknown keys {unknown}; known keys are {sorted(known)}")
        return cls(**entry)


@dataclass(frozen=True)
class LabelScaler:
    """``scaled = (y - offset) / scale``, fitted on training labels."""

    kind: str
    offset: float
    scale: float

    @classmethod
    def fit(cls, y: np.ndarray, kind: str) -> LabelScaler:
        if len(y) == 0:
            raise ValueError("nothing to train on: no labels")
        not_finite = np.count_nonzero(~np.isfinite(y))
        if not_finite:
            raise ValueError(f"labels must be finite numbers: {not_finite} are not")
        if kind == "standard":
            offset, scale = float(np.mean(y)), float(np.std(y))
        else:
            offset, scale = float(np.min(y)), float(np.max(y) - np.min(y))
        return cls(kind, offset, scale if scale > 0 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (y - self.offset) / self.scale

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return scaled * self.scale + self.offset


def hardware_has_bf16(gpus: list) -> bool:
    """bfloat16 matrix units: a GPU of compute capability >= 8.0, or AVX512-BF16 / AMX on the CPU."""
    import tensorflow as tf

    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def set_threads(intra_op: int, inter_op: int | None = None) -> bool:
    """TensorFlow's intra-op threads (0: every core) and, where given, inter-op threads; False,
    with a warning, where TensorFlow already runs with other counts, which it keeps (a second
    network in one process, as in the tests)."""
    import tensorflow as tf

    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(intra_op)
        if inter_op is not None:
            threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # "cannot be modified after initialization"
        intra = threading.get_intra_op_parallelism_threads()
        inter = threading.get_inter_op_parallelism_threads()
        if intra == intra_op and inter_op in (None, inter):
            return True  # already as asked
        log.warning("TensorFlow already started; it keeps its %d intra-op and %d inter-op "
                    "threads", intra, inter)  # fmt: skip
        return False
    return True


def configure_tensorflow(
    threads: int, settings: TrainingSettings, float32: bool = False, gpus_asked: int | None = None
) -> str:
    """GPU slot, threads, determinism and precision; returns the device and precision.

    ``float32``: the model computes in float32 whatever the settings (message passing).
    ``gpus_asked``: the GPUs that the job's rule asks for (None outside a rule): where it asks
    for one, a GPU that TensorFlow cannot see is refused or warned of (``check_gpus_seen``).
    """
    given = os.environ.get("CUDA_VISIBLE_DEVICES")  # by the scheduler, or by hand
    log.info(assign_gpu(asked=gpus_asked))  # before TensorFlow starts: it reads it once
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus_asked and not gpus:
        check_gpus_seen(given, tf.test.is_built_with_cuda())
    for gpu in gpus:  # take memory as needed, so that jobs can share a device
        tf.config.experimental.set_memory_growth(gpu, True)
    if not gpus:
        set_threads(max(1, threads), inter_op=1)
    if settings.deterministic:
        tf.config.experimental.enable_op_determinism()
    bf16 = not float32 and (
        settings.mixed_precision is True
        or (settings.mixed_precision == "auto" and hardware_has_bf16(gpus))
    )
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if bf16 else "float32")
    running = tf.config.threading.get_intra_op_parallelism_threads()  # set_threads may keep it
    device = f"GPU ({gpus[0].name})" if gpus else f"CPU ({running} threads)"
    return f"{device}, {'bfloat16' if bf16 else 'float32'}"


CPU_TRAINING_ON_GPU_JOBS = "REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS"  # 1: warn, do not refuse


def gives_a_gpu(visible: str | None) -> bool:
    """Whether a ``CUDA_VISIBLE_DEVICES`` value names a device: not unset or empty, nor a
    negative id (``-1``, the usual way to hide every GPU), nor ``NoDevFiles`` (SLURM's)."""
    first = (visible or "").split(",")[0].strip()
    return bool(first) and first != "NoDevFiles" and not first.startswith("-")


def check_gpus_seen(given: str | None, built_with_cuda: bool) -> None:
    """For a job that asks for a GPU and whose TensorFlow sees none: refuse it where a GPU was
    given to it (``CUDA_VISIBLE_DEVICES`` set before the job, as SLURM sets it), which it would
    hold unused while it trains on its CPUs, unless ``REDOXSCREEN_CPU_TRAINING_ON_GPU_JOBS=1``;
    warn where the machine has GPUs (nvidia-smi) that no one gave it."""
    build = (
        "built with CUDA but finds no device it can use (check nvidia-smi and the driver)"
        if built_with_cuda
        else "built for CPUs only (tensorflow-cpu, which `make venv` installs)"
    )
    remedy = (
        "run `make gpu` (TensorFlow's CUDA build) where the jobs run, or set "
        "grid.resources.gpu and final.resources.gpu to 0 to train on CPUs"
    )
    if gives_a_gpu(given):
        problem = (
            f"this job was given GPU {given} (CUDA_VISIBLE_DEVICES), but TensorFlow sees "
            f"none: it is {build}; {remedy}"
        )
        if os.environ.get(CPU_TRAINING_ON_GPU_JOBS) != "1":
            raise RuntimeError(f"{problem} (or {CPU_TRAINING_ON_GPU_JOBS}=1 to train on its CPUs)")
        log.warning("%s; %s=1: training on its CPUs", problem, CPU_TRAINING_ON_GPU_JOBS)
    elif given is None and (devices := gpu_count()):
        log.warning("this machine has %d GPU(s), but TensorFlow sees none: it is %s; training "
                    "runs on CPUs: %s", devices, build, remedy)  # fmt: skip


def inner_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices for fitting and for early stopping, drawn from the training molecules."""
    order = np.random.default_rng(seed).permutation(n)
    n_stop = int(round(n * fraction)) if fraction > 0 else 0
    return np.sort(order[n_stop:]), np.sort(order[:n_stop])


def learning_rate_callbacks(settings: TrainingSettings) -> list:
    import keras

    if settings.lr_schedule == "exponential_decay":
        start, rate = settings.decay_start_epoch, settings.decay_rate
        if start >= settings.max_epochs:
            log.warning("exponential_decay starts at decay_start_epoch %d, not before "
                        "max_epochs %d: the learning rate stays %g", start,
                        settings.max_epochs, settings.learning_rate)  # fmt: skip
        return [
            keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: lr if epoch < start else lr * rate
            )
        ]
    if settings.lr_schedule == "reduce_on_plateau":
        wait = max(3, settings.patience // 2)
        return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=wait)]
    return []


@dataclass
class FitResult:
    model: object
    scaler: LabelScaler
    history: pd.DataFrame
    best_epoch: int
    seconds: float
    n_fit: int
    n_stop: int


def descriptor_scaling(x_fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance per input: identity for the fingerprint, standardizing the trailing
    descriptor columns on the molecules the network fits (constant ones are left as they are)."""
    n_descriptors = len(descriptors.NAMES)
    mean = np.zeros(x_fit.shape[1], dtype=np.float32)
    variance = np.ones(x_fit.shape[1], dtype=np.float32)
    block = x_fit[:, -n_descriptors:].astype(np.float64)
    spread = block.var(axis=0)
    mean[-n_descriptors:] = block.mean(axis=0)
    variance[-n_descriptors:] = np.where(spread > 0, spread, 1.0)
    return mean, variance


def stop_after(seconds: float, model):
    """A callback that stops training after the epoch in which ``seconds`` have passed."""
    import keras

    started = []

    def stop_if_late(epoch, logs):
        if time.perf_counter() - started[0] > seconds:
            model.stop_training = True

    return keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: started.append(time.perf_counter()),
        on_epoch_end=stop_if_late,
    )


def held_out_recording(
    held_out: tuple | None, scaler: LabelScaler, watcher_for: Callable[..., Callable[[], float]]
):
    """``(record, recorded)`` for molecules a network does not train on: ``record()``, called at
    the end of every epoch, appends to ``recorded`` their MAE (scaled) as the weights are then
    and the seconds that took; it only watches. ``watcher_for(inputs, scaled_labels)`` gives the
    function that computes that MAE. ``(None, {})`` when ``held_out`` holds no molecule."""
    if held_out is None or not len(held_out[1]):
        return None, {}
    mae = watcher_for(held_out[0], scaler.transform(held_out[1]))
    recorded: dict[str, list[float]] = {"held_out_mae": [], "held_out_seconds": []}

    def record() -> None:
        started = time.perf_counter()
        recorded["held_out_mae"].append(float(mae()))
        recorded["held_out_seconds"].append(time.perf_counter() - started)

    return record, recorded


def fingerprint_held_out_watcher(model, x_held: np.ndarray, scaled_labels: np.ndarray):
    """A function that gives a fingerprint network's MAE (scaled) on these features as its
    weights are now."""
    x_held = np.asarray(x_held, dtype=np.float32)  # converted once, not every epoch
    return lambda: np.mean(np.abs(scaled_predictions(model, x_held) - scaled_labels))


def fit_network(
    x: np.ndarray,
    y: np.ndarray,
    hidden_layers,
    settings: TrainingSettings,
    seed: int,
    time_limit_s: float | None = None,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
) -> FitResult:
    """Train a network on (x, y); early stopping on an inner split when patience > 0.

    ``time_limit_s`` stops training after the epoch that passes that wall time (benchmarks).
    ``held_out`` (features and labels of molecules it does not train on) adds the history's
    ``held_out_mae``, watched only, and ``held_out_seconds``, which ``seconds`` leaves out.
    """
    import keras

    from redoxscreen.model import build_network

    keras.utils.set_random_seed(seed)
    fit_rows, stop_rows = inner_split(len(y), settings.validation_fraction, seed)
    if len(stop_rows) and settings.patience == 0 and settings.lr_schedule != "reduce_on_plateau":
        log.warning("patience 0: %d training molecules (validation_fraction %g) are held out "
                    "for the learning curve only; validation_fraction: 0 trains on them",
                    len(stop_rows), settings.validation_fraction)  # fmt: skip
    scaler = LabelScaler.fit(y[fit_rows], settings.label_scaling)
    scaling = descriptor_scaling(x[fit_rows]) if settings.descriptors else None
    model = build_network(x.shape[1], hidden_layers, settings.l2, settings.dropout, scaling)
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate), loss="mse", metrics=["mae"]
    )
    callbacks = learning_rate_callbacks(settings)
    if settings.patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_mae", patience=settings.patience, restore_best_weights=True
            )
        )
    if time_limit_s is not None:
        callbacks.append(stop_after(time_limit_s, model))
    watcher_for = partial(fingerprint_held_out_watcher, model)
    record, recorded = held_out_recording(held_out, scaler, watcher_for)
    if record:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: record()))
    batch_size = min(settings.batch_size, len(fit_rows))
    training_data = batched(
        x[fit_rows], scaler.transform(y[fit_rows]), batch_size, shuffle_seed=seed
    )
    validation = (
        batched(x[stop_rows], scaler.transform(y[stop_rows]), 4096) if len(stop_rows) else None
    )
    started = time.perf_counter()
    fitted = model.fit(
        training_data,
        validation_data=validation,
        epochs=settings.max_epochs,
        shuffle=False,  # the pipeline reshuffles every epoch, seeded
        callbacks=callbacks,
        verbose=0,
    )
    raw = fitted.history | recorded
    seconds = seconds_training(started, raw)
    history = history_in_label_units(raw, scaler)
    best_epoch = int(history["val_mae"].idxmin()) + 1 if "val_mae" in history else len(history)
    return FitResult(model, scaler, history, best_epoch, seconds, len(fit_rows), len(stop_rows))


FINGERPRINT_NETWORK_KEYS = (
    "l2", "dropout", "batch_size", "max_epochs", "patience", "lr_schedule", "decay_start_epoch",
    "decay_rate", "validation_fraction", "mixed_precision",
)  # fmt: skip
GRAPH_NETWORK_KEYS = ("graph_epochs", "graph_batch_size", "graph_weight_averaging")
SHARED_KEYS = ("descriptors", "label_scaling", "learning_rate", "deterministic")


def keys_read_by(learned: bool) -> tuple[str, ...]:
    """The ``training`` keys that a message-passing (``learned``) or a fingerprint network
    reads. ``fingerprint`` is in neither: a job's architecture carries its fingerprint kind."""
    return SHARED_KEYS + (GRAPH_NETWORK_KEYS if learned else FINGERPRINT_NETWORK_KEYS)


DECAY_KEYS = ("decay_start_epoch", "decay_rate")  # read by lr_schedule exponential_decay alone


def training_read_by(training: dict, learned: bool) -> dict:
    """The config's ``training`` entries that a network of this kind reads (the decay keys only
    under an ``exponential_decay`` schedule): a training job's params, so that changing a key
    its network ignores reruns no job."""
    keys = keys_read_by(learned)
    if training.get("lr_schedule") != "exponential_decay":
        keys = tuple(key for key in keys if key not in DECAY_KEYS)
    return {key: value for key, value in training.items() if key in keys}


def fit_graph_network(
    molecule_graphs: list,
    y: np.ndarray,
    spec: FingerprintSpec,
    head_layers,
    settings: TrainingSettings,
    seed: int,
    time_limit_s: float | None = None,
    held_out: tuple[list, np.ndarray] | None = None,
) -> FitResult:
    """Train a message-passing network on every molecule's graph for ``graph_epochs`` epochs,
    at most ``learning_rate``, on labels scaled by ``label_scaling``; keep the mean of its
    weights over the last ``graph_weight_averaging`` of the epochs. ``held_out`` (graphs and
    labels it does not train on) adds the history's ``held_out_mae``, watched only, and
    ``held_out_seconds``, which ``seconds`` leaves out."""
    import keras

    from redoxscreen import message_passing

    keras.utils.set_random_seed(seed)
    log.info("message-passing network: %d epochs in batches of %d, learning rate at most %g; "
             "the keys %s apply to fingerprint networks only", settings.graph_epochs,
             settings.graph_batch_size, settings.learning_rate,
             ", ".join(FINGERPRINT_NETWORK_KEYS))  # fmt: skip
    scaler = LabelScaler.fit(y, settings.label_scaling)
    model = message_passing.MessagePassingNetwork(spec.radius, spec.n_bits, tuple(head_layers))
    watcher_for = partial(message_passing.held_out_watcher, model)
    record, recorded = held_out_recording(held_out, scaler, watcher_for)
    started = time.perf_counter()
    raw = message_passing.train(
        model,
        molecule_graphs,
        scaler.transform(y),
        epochs=settings.graph_epochs,
        batch_size=min(settings.graph_batch_size, len(y)),
        peak_learning_rate=settings.learning_rate,
        seed=seed,
        time_limit_s=time_limit_s,
        average_last=settings.graph_weight_averaging,
        on_epoch_end=record,
    )
    raw |= recorded
    seconds = seconds_training(started, raw)
    history = history_in_label_units(raw, scaler)
    return FitResult(model, scaler, history, len(history), seconds, len(y), 0)


def fit_model(x, y, spec: FingerprintSpec, hidden_layers, settings: TrainingSettings, seed: int,
              time_limit_s: float | None = None, held_out=None) -> FitResult:  # fmt: skip
    """A message-passing network on graphs when ``spec`` is learned, else a fingerprint network;
    ``held_out``: (inputs, labels) whose MAE the history records per epoch."""
    fit = fit_graph_network if spec.learned else fit_network
    extra = (spec,) if spec.learned else ()
    return fit(x, y, *extra, hidden_layers, settings, seed, time_limit_s, held_out)


def batched(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """A cached tf.data pipeline (reshuffled each epoch when a seed is given)."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32"))).cache()
    if shuffle_seed is not None:
        data = data.shuffle(len(y), seed=shuffle_seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(2)


def seconds_training(started: float, raw_history: dict) -> float:
    """Seconds since ``started``, less those spent watching a held-out set."""
    return time.perf_counter() - started - sum(raw_history.get("held_out_seconds", []))


def history_in_label_units(raw: dict, scaler: LabelScaler) -> pd.DataFrame:
    """Per-epoch loss (scaled) and MAE converted back to the label's unit."""
    history = pd.DataFrame({key: np.asarray(values, dtype=float) for key, values in raw.items()})
    for column in ("mae", "val_mae", "held_out_mae"):
        if column in history:
            history[column] = history[column] * scaler.scale
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    return history


def predict(model, scaler: LabelScaler, x: np.ndarray | list) -> np.ndarray:
    """Predictions in label units of a feature matrix, or of a list of molecule graphs."""
    return scaler.inverse(scaled_predictions(model, x))


def scaled_predictions(model, x: np.ndarray | list, batch_size: int = 4096) -> np.ndarray:
    """The model's outputs (scaled labels) for a feature matrix or a list of molecule graphs."""
    if isinstance(x, list):
        from redoxscreen.message_passing import forward_function, predict_scaled

        scaled = predict_scaled(forward_function([model]), x, n_models=1)[0]
    else:  # batch by batch, the numbers of Keras' predict: its tf.data map makes TensorFlow
        # 2.21 print an error line (use_unbounded_threadpool) on every training job's stderr
        x = np.asarray(x, dtype=np.float32)
        batches = [model.predict_on_batch(x[start : start + batch_size])
                   for start in range(0, len(x), batch_size)]  # fmt: skip
        scaled = np.concatenate([np.asarray(batch) for batch in batches]) if batches else []
    return np.asarray(scaled, dtype=float).ravel()


@dataclass(frozen=True)
class FoldJob:
    """One (target, model, fold) training job and where its inputs are."""

    molecules: str
    features: str
    folds: str
    target: str
    model_id: int
    fold: int
    hidden_layers: tuple[int, ...]
    seed: int
    descriptors: str | None = None  # the descriptor store, appended to the fingerprints
    spec: FingerprintSpec | None = None  # the architecture's; needed for a learned one (graphs)
    gpus_asked: int | None = None  # the rule's gpu resource; None outside a rule

    @property
    def learned(self) -> bool:
        """A message-passing network, reading the graph store."""
        return self.spec is not None and self.spec.learned


def fold_data(job: FoldJob):
    """Training, held-out and calibration features, labels and ids for one fold.

    Calibration molecules (fold ``CALIBRATION_FOLD``) are never trained on; every fold model
    predicts them, so the ensemble meets them as it meets new molecules.
    """
    molecules = pd.read_parquet(job.molecules, columns=["id", job.target]).set_index("id")
    folds = pd.read_parquet(job.folds)
    store = graphs.read_store(job.features) if job.learned else read_store(job.features)
    spec = job.spec if job.learned else store.spec
    if job.spec is not None and job.spec != spec:
        raise ValueError(f"{job.features} holds {spec.name}, the model needs {job.spec.name}")
    described = descriptors.read_store(job.descriptors) if job.descriptors else None

    def features(ids):
        if described is None:
            return store.rows_for(ids)
        return np.hstack([store.rows_for(ids).astype(np.float32), described.rows_for(ids)])

    def rows(ids):
        return features(ids), molecules.loc[ids, job.target].to_numpy(dtype=float), ids

    calibration = folds["fold"] == CALIBRATION_FOLD
    train_ids = folds.loc[~calibration & (folds["fold"] != job.fold), "id"].to_numpy()
    held_ids = folds.loc[folds["fold"] == job.fold, "id"].to_numpy()
    if len(held_ids) == 0:
        raise ValueError(f"fold {job.fold} of {job.folds} is empty")
    return (
        spec,
        rows(train_ids),
        rows(held_ids),
        rows(folds.loc[calibration, "id"].to_numpy()),
    )


def train_fold(
    job: FoldJob,
    settings: TrainingSettings,
    out_dir: str,
    threads: int,
    save_model: bool = False,
    held_out_curve: bool = False,
) -> dict:
    """Train on every fold but one, evaluate on that one; write metrics, history, predictions.
    ``held_out_curve``: the history also records the held-out fold's MAE after every epoch
    (for the learning curves; it costs a prediction of that fold per epoch)."""
    if settings.descriptors != bool(job.descriptors):  # else columns would be misread
        raise ValueError(f"training.descriptors is {settings.descriptors}, but the job "
                         f"{'has' if job.descriptors else 'has no'} descriptor store")  # fmt: skip
    if job.descriptors and job.learned:
        raise ValueError(f"model {job.model_id} is a message-passing network (fingerprint "
                         "graph), which takes no descriptors: set training.descriptors: false")  # fmt: skip
    device = configure_tensorflow(threads, settings, float32=job.learned, gpus_asked=job.gpus_asked)
    spec, (x_train, y_train, _), (x_held, y_held, held_ids), calibration = fold_data(job)
    log.info("%s model %d fold %d: %d training, %d held-out molecules on %s",
             job.target, job.model_id, job.fold, len(y_train), len(y_held), device)  # fmt: skip
    seed = job.seed + job.fold
    watched = (x_held, y_held) if held_out_curve else None
    fit = fit_model(x_train, y_train, spec, job.hidden_layers, settings, seed, held_out=watched)
    y_pred = predict(fit.model, fit.scaler, x_held)
    held = regression_metrics(y_held, y_pred)
    epochs = len(fit.history)
    metrics = {
        "target": job.target,
        "model": job.model_id,
        "fold": job.fold,
        "radius": spec.radius,
        "n_bits": spec.n_bits,
        "fingerprint": spec.kind,
        "descriptors": settings.descriptors,
        "hidden_layers": "-".join(map(str, job.hidden_layers)),
        "n_train": fit.n_fit,
        "n_early_stopping": fit.n_stop,
        "val_mae": held["mae"],
        "val_rmse": held["rmse"],
        "val_r2": held["r2"],
        "n_val": held["n"],
        "best_epoch": fit.best_epoch,
        "epochs": epochs,
        "train_seconds": fit.seconds,
        "samples_per_second": fit.n_fit * epochs / fit.seconds if fit.seconds > 0 else None,
        "device": device,
        "seed": seed,
    }
    out = Path(out_dir)
    write_table(fit.history, out / "history.parquet")
    predictions = pd.DataFrame(
        {"id": held_ids, "y_true": y_held, "y_pred": y_pred, "fold": job.fold}
    )
    write_table(predictions, out / "predictions.parquet")
    if save_model:
        write_calibration_predictions(fit, calibration, job.fold, out)
        save_fitted(fit, job, spec, settings, out)
    write_json(metrics, out / "metrics.json")
    log.info(
        "held-out MAE %.4f after %d epochs (best %d), %.1f s",
        held["mae"],
        epochs,
        fit.best_epoch,
        fit.seconds,
    )
    return metrics


def write_calibration_predictions(fit: FitResult, calibration, fold: int, out: Path) -> None:
    """This fold model's predictions of the calibration molecules (none of which it saw)."""
    x, y, ids = calibration
    y_pred = predict(fit.model, fit.scaler, x) if len(ids) else np.empty(0)
    table = pd.DataFrame({"id": ids, "y_true": y, "y_pred": y_pred, "fold": fold})
    write_table(table, out / "calibration_predictions.parquet")


def save_fitted(fit: FitResult, job: FoldJob, spec, settings: TrainingSettings, out: Path) -> None:
    """The model as ``.keras`` plus what is needed to use it: featurization and label scaling."""
    with atomic_path(out / "model.keras") as temporary:
        keras_path = temporary.with_suffix(".keras")
        fit.model.save(keras_path)
        keras_path.replace(temporary)
    recipe = {
        "target": job.target,
        "fingerprint": dataclasses.asdict(spec),
        "hidden_layers": list(job.hidden_layers),
        "scaler": dataclasses.asdict(fit.scaler),
        "training": training_read_by(dataclasses.asdict(settings), job.learned),
    }
    write_json(recipe, out / "recipe.json")


def load_fitted(model_dir: str | os.PathLike):
    """A saved model for prediction, its label scaler and its recipe.

    The optimizer state is not loaded (``compile=False``): a third of the model's memory, and
    only training needs it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    recipe = json.loads((Path(model_dir) / "recipe.json").read_text())
    if FingerprintSpec(**recipe["fingerprint"]).learned:
        import redoxscreen.message_passing  # noqa: F401  (registers the network's class)
    model = keras.models.load_model(Path(model_dir) / "model.keras", compile=False)
    return model, LabelScaler(**recipe["scaler"]), recipe


def train_fold_of_rule(smk, architecture: dict, final: bool = False) -> dict:
    """The body shared by rules train_grid_fold and train_final_fold (``smk`` is snakemake).

    ``architecture``: ``model``, ``radius``, ``n_bits``, ``fingerprint`` and ``hidden_layers``,
    as a grid row or ``selected.yaml`` gives them. A ``final`` fold saves its model and records
    the held-out fold's learning curve.
    """
    from redoxscreen.grid import parse_layers

    job = FoldJob(
        molecules=smk.input.molecules,
        features=smk.input.features,
        folds=smk.input.folds,
        target=smk.wildcards.target,
        model_id=int(architecture["model"]),
        fold=int(smk.wildcards.fold),
        hidden_layers=parse_layers(architecture["hidden_layers"]),
        seed=smk.params.seed,
        descriptors=smk.input.descriptors[0] if smk.input.descriptors else None,
        spec=FingerprintSpec(
            int(architecture["radius"]), int(architecture["n_bits"]), architecture["fingerprint"]
        ),
        gpus_asked=int(smk.resources.get("gpu", 0)),
    )
    return train_fold(
        job,
        TrainingSettings.from_config(smk.params.training),
        out_dir=str(Path(smk.output.metrics).parent),
        threads=smk.threads,
        save_model=final,
        held_out_curve=final,
    )
