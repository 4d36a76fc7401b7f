"""One training step, run eagerly or replayed from a captured CUDA graph.

Why graphs: on a GPU the project's training steps are bound by operator launches, not by arithmetic
(``benchmarks/step_launches.py``: 968 operators per digital step of a pooling cell, 1,847 per HWT step; 2,243 and
12,752 for the all-conv3x3 cell; each costs the host about 13 us to launch), so a 200-epoch HWT kept an H200 mostly
waiting. A CUDA graph replays a whole step (forward, backward, AIHWKit's gradient rule, the SGD update, the weight
clipping and the epoch's loss and accuracy sums) with one launch.

What capture needs, and how it is met:

- a step that reads nothing back to the host: the analog layers' input-range initialisation does for its first
  ``init_from_data`` steps, so those (and a few more, to warm up) run eagerly and capture waits for
  :attr:`~analognasbench.analog.layers.AnalogLayer.reads_back_in_training` to clear (a layer whose initialisation
  has not finished by then goes on with it on the device: ``keep_initialising_on_device``);
- tensors at fixed addresses: each batch is copied into a static input; an epoch's last, smaller batch runs eagerly;
- an update without host numbers: ``torch.optim.SGD`` turns a tensor learning rate into a host number, so the
  graph runs SGD's own arithmetic (:func:`sgd_update_`) on the optimiser's momentum buffers, with the learning rate
  baked in when it is constant (the release's HWT; then the arithmetic is bit-for-bit torch's) or read from a device
  tensor when a schedule changes it every step (the digital stage's cosine);
- fresh noise on every replay: the analog layers' noise generators are registered with the graph;
- QAT's Adam: built ``capturable`` with its learning rate in a device tensor, which the plateau scheduler changes
  in place between epochs (:func:`~analognasbench.pipeline.training.keep_lr_tensor`), and its own ``step()`` is
  captured.

Used by the training stages on a CUDA device when ``ANB_CUDA_GRAPHS=1`` (off by default until measured on a GPU: this
was written without one; ``tests/test_gpu.py`` compares graphed with eager steps there).
The optimiser's state stays torch's (SGD's momentum buffers are updated in place), so checkpoints are the same as
eager training's (QAT's capturable Adam keeps its step counts on the device; a checkpoint continues in either kind
of run). If capture fails the step says why once and trains on eagerly: a lent GPU's call is never lost
to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

logger = logging.getLogger(__name__)

#: ``recorder(body, generators, device)`` captures ``body`` without running it and returns its replay.
Recorder = Callable[[Callable[[], None], list[torch.Generator], torch.device], Callable[[], None]]


class TrainStep:
    """An eager training step (forward, loss, backward, optional gradient clipping, ``before_update``, optimiser
    step, ``after_step``) with the epoch's loss and accuracy summed on the device: read back once per epoch, not per
    step (a synchronisation on a GPU)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device, *,
                 before_update: Callable[[], None] | None = None, after_step: Callable[[], None] | None = None,
                 grad_clip_norm: float | None = None) -> None:
        self.model, self.optimizer = model, optimizer
        self.before_update, self.after_step = before_update, after_step
        self.grad_clip_norm = grad_clip_norm
        self.criterion = nn.CrossEntropyLoss()
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.long, device=device)
        self.seen = 0

    def begin_epoch(self) -> None:
        """Zero the epoch's sums (in place: a captured step adds into these very tensors)."""
        self.loss_sum.zero_()
        self.correct.zero_()
        self.seen = 0

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self._eager(x, y)

    def totals(self) -> tuple[float, float]:
        """The epoch's mean training loss and training accuracy in percent."""
        if self.seen == 0:
            raise ValueError("the training set is empty")
        return float(self.loss_sum) / self.seen, 100.0 * int(self.correct) / self.seen

    def _gradients(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, loss, backward, clipping and ``before_update``: the gradients the update takes."""
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(x)
        loss = self.criterion(logits, y)
        loss.backward()
        if self.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip_norm)
        if self.before_update is not None:
            self.before_update()
        return loss, logits

    def _eager(self, x: torch.Tensor, y: torch.Tensor) -> None:
        loss, logits = self._gradients(x, y)
        self.optimizer.step()
        if self.after_step is not None:
            self.after_step()
        self._tally(loss, logits, y)
        self.seen += y.shape[0]

    def _tally(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.loss_sum += loss.detach() * y.shape[0]
        self.correct += (logits.detach().argmax(1) == y).sum()


@torch.no_grad()
def sgd_update_(params: list[torch.Tensor], grads: list[torch.Tensor], buffers: list[torch.Tensor] | None,
                lr: float | torch.Tensor, *, momentum: float, weight_decay: float, nesterov: bool) -> None:
    """``torch.optim.SGD``'s update (dampening 0, not maximising) on momentum ``buffers`` that already exist
    (after SGD's first step): ``d = g + wd * p``, ``b = momentum * b + d``, ``p -= lr * (d + momentum * b)`` with
    Nesterov, else ``p -= lr * b``. With a float ``lr`` it is torch's arithmetic step for step; a tensor ``lr`` (read
    on the device, so a graph can replay a schedule) rounds ``lr * d`` before the subtraction."""
    if weight_decay != 0:
        grads = torch._foreach_add(grads, params, alpha=weight_decay)
    if momentum != 0:
        if buffers is None or len(buffers) != len(params):
            raise ValueError("momentum SGD needs one momentum buffer per parameter")
        torch._foreach_mul_(buffers, momentum)
        torch._foreach_add_(buffers, grads)
        grads = torch._foreach_add(grads, buffers, alpha=momentum) if nesterov else buffers
    if isinstance(lr, torch.Tensor):
        torch._foreach_sub_(params, torch._foreach_mul(grads, lr))
    else:
        torch._foreach_add_(params, grads, alpha=-lr)


def cuda_graph_recorder(body: Callable[[], None], generators: list[torch.Generator],
                        device: torch.device) -> Callable[[], None]:
    """Capture ``body`` in a CUDA graph (its generators registered, so replays draw fresh numbers) and return the
    graph's replay. ``thread_local`` capture: other threads of a Dask worker may use CUDA meanwhile."""
    graph = torch.cuda.CUDAGraph()
    for gen in generators:
        graph.register_generator_state(gen)
    torch.cuda.synchronize(device)
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        body()
    return graph.replay


class GraphedStep(TrainStep):
    """A training step that, once it can be captured, replays a CUDA graph of itself for every full batch.

    The update in the graph: SGD's arithmetic (:func:`sgd_update_`) for ``torch.optim.SGD``; the optimiser's own
    ``step()`` for one built ``capturable`` with a tensor learning rate (QAT's Adam: its plateau scheduler changes
    the rate between epochs, in place). ``varying_lr`` (SGD): the learning rate changes between steps (read from
    ``optimizer.param_groups[0]["lr"]`` before every replay, into a device tensor). ``grad_clip_norm``: clip the
    gradients' norm before the update. ``warmup_steps``: eager steps before capture (after the input ranges'
    initialisation). ``recorder``: how the step is captured; :func:`cuda_graph_recorder` on CUDA (the tests on the
    CPU pass one that replays by running the step's code again, which checks everything but the capture itself).
    ``name``: the stage, for the log.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device, batch_size: int,
                 *, varying_lr: bool = False, before_update: Callable[[], None] | None = None,
                 after_step: Callable[[], None] | None = None, grad_clip_norm: float | None = None,
                 warmup_steps: int = 3, recorder: Recorder = cuda_graph_recorder, name: str = "training") -> None:
        super().__init__(model, optimizer, device, before_update=before_update, after_step=after_step,
                         grad_clip_norm=grad_clip_norm)
        self.name = name
        self.device, self.batch_size, self.varying_lr = device, batch_size, varying_lr
        self.warmup_steps, self.recorder = warmup_steps, recorder
        self.eager_steps = 0
        self.replays = 0
        #: Why the step is not captured (None while it may still be).
        self.not_captured: str | None = self._ineligible()
        self._replay: Callable[[], None] | None = None
        self._side: _SideStream | None = None
        self._static: tuple[torch.Tensor, torch.Tensor] | None = None
        self._lr: torch.Tensor | None = None

    @property
    def captured(self) -> bool:
        return self._replay is not None

    def _ineligible(self) -> str | None:
        groups = self.optimizer.param_groups
        if isinstance(self.optimizer, torch.optim.SGD):
            if len(groups) != 1:
                return "SGD with several parameter groups has no graphed update"
            group = groups[0]
            if group["dampening"] != 0 or group["maximize"] or group.get("differentiable", False):
                return "SGD with dampening, maximize or differentiable has no graphed update"
            return None
        if self.varying_lr:
            return "only SGD's learning rate is copied in before each replay"
        if not all(isinstance(g["lr"], torch.Tensor) for g in groups):
            return "the optimiser's learning rate is a number: a graph would keep it as captured"
        # (on the CPU, where the tests replay by running the step again, torch allows no capturable optimiser)
        if self.device.type == "cuda" and not all(g.get("capturable", False) for g in groups):
            return "the optimiser is neither SGD nor capturable"
        return None

    def _ready(self) -> bool:
        """Capture once the eager warm-up is done and no analog layer that trains reads back to the host any more
        (its input ranges initialised, or, where ``init_from_data`` steps did not finish that, initialising on the
        device); layers on a cell's pruned edges never run."""
        from analognasbench.analog.convert import analog_layers

        if self.eager_steps < self.warmup_steps:
            return False
        return not any(layer.reads_back_in_training for layer in analog_layers(self.model) if layer.training_forwards)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        full = x.shape[0] == self.batch_size
        if full and self._replay is None and self.not_captured is None and self._ready():
            self._capture(x, y)
        if full and self._replay is not None:
            static_x, static_y = self._static  # type: ignore[misc]
            static_x.copy_(x)
            static_y.copy_(y)
            if self._lr is not None:
                self._lr.fill_(self.optimizer.param_groups[0]["lr"])
            self._replay()
            self.seen += self.batch_size
            self.replays += 1
            return
        with self._warming():
            self._eager(x, y)
        self.eager_steps += 1

    def _warming(self) -> AbstractContextManager[object]:
        """Eager steps before capture run on a side stream on CUDA (torch's recipe: lazily created state, such as
        cuBLAS workspaces and AccumulateGrad's stream, must exist before capture)."""
        if self.device.type != "cuda" or self._replay is not None:
            return nullcontext()
        if self._side is None:
            self._side = _SideStream(self.device)
        return self._side

    def _capture(self, x: torch.Tensor, y: torch.Tensor) -> None:
        from analognasbench.analog.gaussian import GaussianSource

        group = self.optimizer.param_groups[0]
        self._static = (x.clone(), y.clone())
        self._lr = torch.tensor(group["lr"], device=self.device) if self.varying_lr else None
        lr: float | torch.Tensor = self._lr if self._lr is not None else group["lr"]
        static_x, static_y = self._static

        def body() -> None:
            loss, logits = self._gradients(static_x, static_y)
            if not isinstance(self.optimizer, torch.optim.SGD):
                self.optimizer.step()  # capturable: its state and learning rate live on the device
            else:
                self._sgd_update(group, lr)
            if self.after_step is not None:
                self.after_step()
            self._tally(loss, logits, static_y)

        generators = [m.noise.torch_generator for m in self.model.modules()
                      if isinstance(getattr(m, "noise", None), GaussianSource)]
        try:
            self._replay = self.recorder(body, generators, self.device)
        except Exception as err:  # noqa: BLE001 - any capture failure falls back to eager training
            self.not_captured = f"capture failed: {type(err).__name__}: {err}"
            self._static = self._lr = None
            logger.warning("%s step not captured in a CUDA graph, going on eagerly (%s)", self.name,
                           self.not_captured)
            return
        logger.info("%s step captured in a CUDA graph after %d eager steps", self.name, self.eager_steps)

    def _sgd_update(self, group: dict, lr: float | torch.Tensor) -> None:
        momentum = group["momentum"]
        # as torch's SGD: parameters without a gradient (a cell's pruned edges) are left alone, decay included
        params = [p for p in group["params"] if p.grad is not None]
        buffers = None
        if momentum != 0:
            buffers = [self.optimizer.state.get(p, {}).get("momentum_buffer") for p in params]
            if any(b is None for b in buffers):
                raise RuntimeError("a parameter has a gradient but no momentum buffer (none in the eager steps)")
        sgd_update_(params, [p.grad for p in params], buffers, lr, momentum=momentum,  # type: ignore[arg-type]
                    weight_decay=group["weight_decay"], nesterov=group["nesterov"])


class _SideStream:
    """``with``: run on a fresh side stream that first waits for the current one, which then waits for it."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stream = torch.cuda.Stream(device)
        self._contexts: list[AbstractContextManager[object]] = []

    def __enter__(self) -> None:
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        context = torch.cuda.stream(self.stream)
        context.__enter__()
        self._contexts.append(context)

    def __exit__(self, *exc: object) -> None:
        self._contexts.pop().__exit__(*exc)
        torch.cuda.current_stream(self.device).wait_stream(self.stream)


def make_step(model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device, batch_size: int, *,
              graphs: bool, varying_lr: bool = False, grad_clip_norm: float | None = None,
              before_update: Callable[[], None] | None = None, after_step: Callable[[], None] | None = None,
              name: str = "training") -> TrainStep:
    """The step a training stage trains with: graphed on CUDA when ``graphs``, else eager."""
    hooks = {"before_update": before_update, "after_step": after_step, "grad_clip_norm": grad_clip_norm}
    if graphs and device.type == "cuda":
        return GraphedStep(model, optimizer, device, batch_size, varying_lr=varying_lr, name=name, **hooks)
    return TrainStep(model, optimizer, device, **hooks)
