"""Training loops and test evaluation shared by the digital, QAT and hardware-aware training stages.

All randomness (batch order, augmentation) comes from an explicit CPU ``torch.Generator``, so a seed gives the same
run on CPU and on a GPU up to floating-point differences. Losses and accuracies accumulate on the device and are
read back once per epoch (no per-step synchronisation on a GPU).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from analognasbench.datasets import batches
from analognasbench.datasets.augment import CIFAR10_MEAN, CIFAR10_STD
from analognasbench.pipeline.profiles import QATStage, SGDStage
from analognasbench.pipeline.resume import StageCheckpoint
from analognasbench.pipeline.steps import TrainStep, make_step

logger = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: called after every epoch of a training stage and every repetition of an
#: evaluation stage.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of a training stage: mean training loss, training accuracy (percent, on augmented batches) and
    the learning rate at the epoch's last step."""

    epoch: int
    loss: float
    accuracy: float
    lr: float


def curve_json(records: list[EpochRecord]) -> str:
    """The ``curve_<stage>`` column: a JSON list of ``{epoch, loss, accuracy, lr}``."""
    return json.dumps([asdict(r) for r in records], separators=(",", ":"))


def cuda_graphs_wanted() -> bool:
    """CUDA graphs for the training stages' steps with ``ANB_CUDA_GRAPHS=1``. Off by default until measured on a
    GPU (written without one; ``tests/test_gpu.py`` checks them, ``scripts/gpu-reproduce.sh`` turns them on)."""
    value = os.environ.get("ANB_CUDA_GRAPHS", "0").strip()
    if value not in ("0", "1"):
        raise ValueError(f"ANB_CUDA_GRAPHS must be 0 or 1, got {value!r}")
    return value == "1"


@dataclass(frozen=True, eq=False)
class DeviceData:
    """The uint8 images and labels as tensors on the compute device (moved once, batched there), and the
    per-channel normalisation every batch made from them gets (a protocol switch)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    device: torch.device
    mean: tuple[float, ...] = CIFAR10_MEAN
    std: tuple[float, ...] = CIFAR10_STD
    graphs: bool = field(default_factory=cuda_graphs_wanted)
    """Replay the training stages' steps from CUDA graphs on a CUDA device (:mod:`.steps`)."""

    @classmethod
    def from_arrays(cls, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                    device: torch.device, mean: tuple[float, ...] = CIFAR10_MEAN,
                    std: tuple[float, ...] = CIFAR10_STD) -> DeviceData:
        def move(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(device)

        return cls(move(train_x), move(train_y), move(test_x), move(test_y), device, tuple(mean), tuple(std))

    @property
    def training_steps(self) -> str:
        """How the training stages run their steps here: ``cuda-graphs`` or ``eager`` (in a row's software)."""
        return "cuda-graphs" if self.graphs and self.device.type == "cuda" else "eager"


def cosine_lr(base_lr: float, step: int, total_steps: int) -> float:
    """Cosine annealing from ``base_lr`` at step 0 to 0 after ``total_steps`` steps."""
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))


def _train_batches(data: DeviceData, batch_size: int, augment: bool,
                   generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    return batches(data.train_x, data.train_y, batch_size, shuffle=True, augment=augment, generator=generator,
                   device=data.device, mean=data.mean, std=data.std)


def _epoch(step: TrainStep, data: DeviceData, batch_size: int, augment: bool, generator: torch.Generator,
           before_step: Callable[[int], None] | None, step0: int) -> tuple[float, float, int]:
    """One training epoch; returns (mean loss, accuracy percent, steps taken)."""
    step.model.train()
    step.begin_epoch()
    steps = 0
    for x, y in _train_batches(data, batch_size, augment, generator):
        if before_step is not None:
            before_step(step0 + steps)
        step(x, y)
        steps += 1
    loss_value, acc = step.totals()
    if not math.isfinite(loss_value):
        raise FloatingPointError(f"training diverged: mean loss {loss_value} in an epoch")
    return loss_value, acc, steps


def train_sgd(model: nn.Module, data: DeviceData, stage: SGDStage, *, batch_size: int, augment: bool,
              generator: torch.Generator, after_step: Callable[[], None] | None = None,
              progress: Progress | None = None, name: str = "digital", schedule: str = "cosine",
              before_update: Callable[[], None] | None = None,
              checkpoint: StageCheckpoint | None = None) -> list[EpochRecord]:
    """SGD with momentum and weight decay; learning rate cosine-annealed per step to 0 over the stage
    (``schedule="cosine"``) or constant (``"constant"``, the release's HWT).

    ``before_update`` runs between the backward pass and the optimizer step (AIHWKit's update rule rescales the
    analog weights' gradients there); ``after_step`` after every optimizer step (HWT clips the weights there).
    With ``checkpoint``, the stage continues from its last saved epoch and saves as it goes
    (:mod:`analognasbench.pipeline.resume`).
    """
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
    if stage.epochs == 0:
        return []
    optimizer = torch.optim.SGD(model.parameters(), lr=stage.lr, momentum=stage.momentum, nesterov=stage.nesterov,
                                weight_decay=stage.weight_decay)
    steps_per_epoch = math.ceil(data.train_x.shape[0] / batch_size)
    total = stage.epochs * steps_per_epoch

    def set_lr(step: int) -> None:
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(stage.lr, step, total)

    resumed = _Resumable(checkpoint, model, optimizer, generator)
    records, step = resumed.records, resumed.step
    runner = make_step(model, optimizer, data.device, batch_size, graphs=data.graphs, varying_lr=schedule == "cosine",
                       before_update=before_update, after_step=after_step, name=name)
    for epoch in range(resumed.epoch + 1, stage.epochs + 1):
        loss, acc, steps = _epoch(runner, data, batch_size, augment, generator,
                                  set_lr if schedule == "cosine" else None, step)
        step += steps
        records.append(EpochRecord(epoch, loss, acc, float(optimizer.param_groups[0]["lr"])))
        logger.debug("%s epoch %d/%d: loss %.4f, train accuracy %.2f%%", name, epoch, stage.epochs, loss, acc)
        resumed.epoch_done(epoch, step, final=epoch == stage.epochs)
        if progress is not None:
            progress(name, epoch, stage.epochs)
    return records


def train_qat(qmodel: nn.Module, data: DeviceData, stage: QATStage, *, batch_size: int, augment: bool,
              generator: torch.Generator, progress: Progress | None = None,
              checkpoint: StageCheckpoint | None = None) -> list[EpochRecord]:
    """Quantisation-aware fine-tuning: Adam, gradient-norm clipping, ReduceLROnPlateau on training accuracy.
    ``checkpoint`` as in :func:`train_sgd`. With CUDA graphs (:mod:`.steps`) Adam is ``capturable`` and its
    learning rate a device tensor, which the scheduler changes in place."""
    if stage.epochs == 0:
        return []
    graphed = data.training_steps == "cuda-graphs"
    lr = torch.tensor(stage.lr, device=data.device) if graphed else stage.lr
    optimizer = torch.optim.Adam(qmodel.parameters(), lr=lr, weight_decay=stage.weight_decay, capturable=graphed)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=stage.plateau_factor,
                                                           patience=stage.plateau_patience)
    resumed = _Resumable(checkpoint, qmodel, optimizer, generator, scheduler)
    records = resumed.records
    runner = make_step(qmodel, optimizer, data.device, batch_size, graphs=graphed, grad_clip_norm=stage.grad_clip_norm,
                       name="qat")
    for epoch in range(resumed.epoch + 1, stage.epochs + 1):
        loss, acc, _ = _epoch(runner, data, batch_size, augment, generator, None, 0)
        records.append(EpochRecord(epoch, loss, acc, float(optimizer.param_groups[0]["lr"])))
        scheduler.step(acc)
        keep_lr_tensor(optimizer, lr)
        resumed.epoch_done(epoch, 0, final=epoch == stage.epochs)
        if progress is not None:
            progress("qat", epoch, stage.epochs)
    return records


def keep_lr_tensor(optimizer: torch.optim.Optimizer, lr: float | torch.Tensor) -> None:
    """Put a scheduler's new rate into the device tensor ``lr`` a captured step reads (a torch whose scheduler
    assigns a number instead of filling the tensor would leave the graph on the old rate)."""
    for group in optimizer.param_groups:
        if isinstance(lr, torch.Tensor) and group["lr"] is not lr:
            lr.fill_(float(group["lr"]))
            group["lr"] = lr


def _restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Load a saved optimiser state, keeping how this run's optimiser was built: a checkpoint of a CUDA-graph run
    (capturable Adam, a tensor learning rate) continues in an eager one and the other way round, its rate's value
    and the step counts (on the parameters' device where capturable) carried over."""
    built = [{key: group[key] for key in ("lr", "capturable") if key in group} for group in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, kept in zip(optimizer.param_groups, built):
        value = float(group["lr"])
        if isinstance(kept.get("lr"), torch.Tensor):
            kept["lr"].fill_(value)
            group["lr"] = kept["lr"]
        else:
            group["lr"] = value
        if "capturable" in kept:
            group["capturable"] = kept["capturable"]
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                if isinstance(state.get("step"), torch.Tensor):
                    device = p.device if kept["capturable"] else torch.device("cpu")
                    state["step"] = state["step"].to(device=device, dtype=torch.float32)


class _Resumable:
    """A training stage's state in and out of its :class:`StageCheckpoint`: on creation it restores the last saved
    epoch (weights, optimiser, scheduler, batch-order generator, the model's noise streams and, where the stage
    uses it, torch's global generator); :meth:`epoch_done` saves when the checkpoint is due. Without a checkpoint
    it only starts the stage at epoch 0."""

    def __init__(self, checkpoint: StageCheckpoint | None, model: nn.Module, optimizer: torch.optim.Optimizer,
                 generator: torch.Generator, scheduler: Any = None) -> None:
        self.checkpoint, self.model, self.optimizer = checkpoint, model, optimizer
        self.generator, self.scheduler = generator, scheduler
        self.epoch, self.step, self.records = 0, 0, []
        #: Seconds the stage trained in earlier attempts (its wall time is theirs plus this attempt's).
        self.previous_s = 0.0
        self._start = time.perf_counter()
        state = checkpoint.load() if checkpoint is not None else None
        if state is not None:
            self._restore(state)
        if checkpoint is not None:
            checkpoint.previous_s = self.previous_s

    def _streams(self) -> dict[str, Any]:
        from analognasbench.analog.gaussian import GaussianSource

        return {name: m.noise for name, m in self.model.named_modules()
                if isinstance(getattr(m, "noise", None), GaussianSource)}

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        _restore_optimizer(self.optimizer, state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        streams = self._streams()
        if set(streams) != set(state["noise"]):
            raise ValueError(f"{self.checkpoint.path}: saved for a network with other analog layers; delete it")
        for key, source in streams.items():
            source.set_state(state["noise"][key])
        if "global_rng" in state:
            torch.set_rng_state(state["global_rng"])
        device = next(self.model.parameters()).device
        if "cuda_rng" in state and device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.records = [EpochRecord(**r) for r in state["records"]]
        self.previous_s = float(state["elapsed_s"])
        logger.info("%s: resumed after epoch %d", self.checkpoint.path, self.epoch)

    def epoch_done(self, epoch: int, step: int, *, final: bool) -> None:
        ck = self.checkpoint
        if ck is None or not ck.due(final):
            return
        state: dict[str, Any] = {
            "epoch": epoch, "step": step, "records": [asdict(r) for r in self.records],
            "elapsed_s": self.previous_s + time.perf_counter() - self._start,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "noise": {key: source.get_state() for key, source in self._streams().items()},
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if ck.global_rng:
            state["global_rng"] = torch.get_rng_state()
            device = next(self.model.parameters()).device
            if device.type == "cuda":
                state["cuda_rng"] = torch.cuda.get_rng_state(device)
        ck.save(state)


def evaluation_batches(data: DeviceData, batch_size: int,
                       augment: torch.Generator | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The normalised test set in ``batch_size`` batches, materialised once for repeated evaluation. With a
    generator ``augment``, one pass of the test set with the training crop + flip (test-time augmentation)."""
    return list(batches(data.test_x, data.test_y, batch_size, shuffle=False, augment=augment is not None,
                        generator=augment, device=data.device, mean=data.mean, std=data.std))


def calibration_inputs(data: DeviceData, n_batches: int, batch_size: int, generator: torch.Generator,
                       split: str = "train", augment: bool = False) -> list[torch.Tensor]:
    """``n_batches`` randomly chosen batches of the ``split`` (``train``, or ``test`` as the release did),
    normalised, augmented only if ``augment``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    xs, ys = (data.train_x, data.train_y) if split == "train" else (data.test_x, data.test_y)
    out = []
    for x, _ in batches(xs, ys, batch_size, shuffle=True, augment=augment, generator=generator,
                        device=data.device, mean=data.mean, std=data.std):
        out.append(x)
        if len(out) == n_batches:
            break
    return out


def accuracy(model: nn.Module, test: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Top-1 accuracy in percent of ``model`` in eval mode on pre-built test batches."""
    model.eval()
    correct = None
    total = 0
    # no_grad rather than inference_mode: analog layers may cache tensors that later take part in training
    with torch.no_grad():
        for x, y in test:
            hits = (model(x).argmax(1) == y).sum()
            correct = hits if correct is None else correct + hits
            total += y.shape[0]
    if total == 0:
        raise ValueError("the test set is empty")
    return 100.0 * int(correct) / total  # type: ignore[arg-type]
