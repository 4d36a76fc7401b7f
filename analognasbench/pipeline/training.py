"""Training loops and test evaluation shared by the digital, QAT and hardware-aware training stages.

All randomness (batch order, augmentation) comes from an explicit CPU ``torch.Generator``, so a seed gives the same
run on CPU and on a GPU up to floating-point differences. Losses and accuracies accumulate on the device and are
read back once per epoch (no per-step synchronisation on a GPU).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from analognasbench.datasets import batches
from analognasbench.datasets.augment import CIFAR10_MEAN, CIFAR10_STD
from analognasbench.pipeline.profiles import QATStage, SGDStage

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

    @classmethod
    def from_arrays(cls, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                    device: torch.device, mean: tuple[float, ...] = CIFAR10_MEAN,
                    std: tuple[float, ...] = CIFAR10_STD) -> DeviceData:
        def move(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(device)

        return cls(move(train_x), move(train_y), move(test_x), move(test_y), device, tuple(mean), tuple(std))


def cosine_lr(base_lr: float, step: int, total_steps: int) -> float:
    """Cosine annealing from ``base_lr`` at step 0 to 0 after ``total_steps`` steps."""
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))


def _train_batches(data: DeviceData, batch_size: int, augment: bool,
                   generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    return batches(data.train_x, data.train_y, batch_size, shuffle=True, augment=augment, generator=generator,
                   device=data.device, mean=data.mean, std=data.std)


def _epoch(model: nn.Module, optimizer: torch.optim.Optimizer, data: DeviceData, batch_size: int, augment: bool,
           generator: torch.Generator, before_step: Callable[[int], None] | None,
           after_step: Callable[[], None] | None, grad_clip_norm: float | None, step0: int,
           before_update: Callable[[], None] | None = None) -> tuple[float, float, int]:
    """One training epoch; returns (mean loss, accuracy percent, steps taken)."""
    model.train()
    criterion = nn.CrossEntropyLoss()
    loss_sum = torch.zeros((), device=data.device)
    correct = torch.zeros((), dtype=torch.long, device=data.device)
    seen = 0
    steps = 0
    for x, y in _train_batches(data, batch_size, augment, generator):
        if before_step is not None:
            before_step(step0 + steps)
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = criterion(logits, y)
        loss.backward()
        if grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
        if before_update is not None:
            before_update()
        optimizer.step()
        if after_step is not None:
            after_step()
        loss_sum += loss.detach() * y.shape[0]
        correct += (logits.detach().argmax(1) == y).sum()
        seen += y.shape[0]
        steps += 1
    if seen == 0:
        raise ValueError("the training set is empty")
    loss_value = float(loss_sum) / seen
    if not math.isfinite(loss_value):
        raise FloatingPointError(f"training diverged: mean loss {loss_value} in an epoch")
    return loss_value, 100.0 * int(correct) / seen, steps


def train_sgd(model: nn.Module, data: DeviceData, stage: SGDStage, *, batch_size: int, augment: bool,
              generator: torch.Generator, after_step: Callable[[], None] | None = None,
              progress: Progress | None = None, name: str = "digital", schedule: str = "cosine",
              before_update: Callable[[], None] | None = None) -> list[EpochRecord]:
    """SGD with momentum and weight decay; learning rate cosine-annealed per step to 0 over the stage
    (``schedule="cosine"``) or constant (``"constant"``, the release's HWT).

    ``before_update`` runs between the backward pass and the optimizer step (AIHWKit's update rule rescales the
    analog weights' gradients there); ``after_step`` after every optimizer step (HWT clips the weights there).
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

    records = []
    step = 0
    for epoch in range(1, stage.epochs + 1):
        loss, acc, steps = _epoch(model, optimizer, data, batch_size, augment, generator,
                                  set_lr if schedule == "cosine" else None, after_step, None, step, before_update)
        step += steps
        records.append(EpochRecord(epoch, loss, acc, optimizer.param_groups[0]["lr"]))
        logger.debug("%s epoch %d/%d: loss %.4f, train accuracy %.2f%%", name, epoch, stage.epochs, loss, acc)
        if progress is not None:
            progress(name, epoch, stage.epochs)
    return records


def train_qat(qmodel: nn.Module, data: DeviceData, stage: QATStage, *, batch_size: int, augment: bool,
              generator: torch.Generator, progress: Progress | None = None) -> list[EpochRecord]:
    """Quantisation-aware fine-tuning: Adam, gradient-norm clipping, ReduceLROnPlateau on training accuracy."""
    if stage.epochs == 0:
        return []
    optimizer = torch.optim.Adam(qmodel.parameters(), lr=stage.lr, weight_decay=stage.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=stage.plateau_factor,
                                                           patience=stage.plateau_patience)
    records = []
    for epoch in range(1, stage.epochs + 1):
        loss, acc, _ = _epoch(qmodel, optimizer, data, batch_size, augment, generator, None, None,
                              stage.grad_clip_norm, 0)
        records.append(EpochRecord(epoch, loss, acc, optimizer.param_groups[0]["lr"]))
        scheduler.step(acc)
        if progress is not None:
            progress("qat", epoch, stage.epochs)
    return records


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
