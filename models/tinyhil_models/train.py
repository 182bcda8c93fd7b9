"""Training, distillation, pruning and quantization-aware training of ``nn.Sequential`` networks (CPU or GPU).

Losses and methods, with their sources:

- supervised: cross-entropy (SGD, Nesterov momentum 0.9, weight decay 5e-4, cosine learning rate);
- Hinton knowledge distillation (Hinton, Vinyals, Dean 2015): ``(1 - alpha) * CE(y, s) + alpha * T^2 *
  KL(softmax(t/T) || softmax(s/T))``;
- multi-layer feature distillation (FitNets, Romero et al. 2015): for each (student layer, teacher layer)
  pair a 1x1 convolution (or linear map) regresses the student's feature onto the teacher's, both average-
  pooled to the smaller spatial size, loss ``beta * mean MSE``, added to the KD loss;
- Specialized Embedding Approximation (Srivastava et al. 2022): the student's embedding (its network without
  the classifier) regresses the teacher's embedding on in-domain audio (MSE); a classifier is then trained
  on top with the body frozen;
- magnitude pruning: global L1 unstructured pruning of conv and linear weights (``torch.nn.utils.prune``),
  masks kept during retraining;
- structured filter pruning: L1-norm filter importance with dependency handling by ``torch-pruning``
  (Fang et al. 2023, DepGraph), layers before the first Permute and the classifier left intact (ACDNet prunes
  its TFEB only);
- quantization-aware training: fake-quantized int8 weights (per-channel symmetric) and activations
  (per-tensor affine, moving-average ranges) with ``torch.ao.quantization.FakeQuantize`` and straight-through
  gradients, optionally with a distillation teacher (quantization-aware distillation).

All functions take numpy batches from :class:`ClipSet` and are deterministic for a given ``seed`` on CPU.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from tinyhil_models.errors import ModelsError, require

torch = require("torch")
nn = torch.nn
F = nn.functional


@dataclass
class ClipSet:
    """Clips with labels and a front end: ``train_batch(rng)`` crops, ``eval_inputs`` fixed crops."""

    clips: list
    frontend: object

    def train_arrays(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One random crop per clip: x [n, *input NHWC without batch] float32, y [n] int64."""
        x = np.stack([self.frontend.train_crop(c.path, rng) for c in self.clips]).astype(np.float32)
        return x.reshape((len(self.clips), *self.frontend.input_shape()[1:])), np.array([c.label for c in self.clips])

    def eval_arrays(self) -> list[np.ndarray]:
        """Per clip, its evaluation crops [crops, *input NHWC without batch]."""
        shape = self.frontend.input_shape()[1:]
        return [self.frontend.eval_crops(c.path).reshape((-1, *shape)).astype(np.float32) for c in self.clips]

    @property
    def labels(self) -> np.ndarray:
        return np.array([c.label for c in self.clips])


def to_nchw(x: np.ndarray):
    """NHWC numpy -> NCHW float tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))


def device() -> "torch.device":
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def evaluate(net, data: ClipSet, batch: int = 64) -> float:
    """Clip-level top-1 accuracy: mean softmax over each clip's evaluation crops, arg-max (ACDNet protocol)."""
    net.eval()
    dev = next(net.parameters()).device
    correct = 0
    with torch.no_grad():
        for x, y in zip(data.eval_arrays(), data.labels):
            probs = torch.cat([F.softmax(net(to_nchw(x[i:i + batch]).to(dev)), dim=1)
                               for i in range(0, len(x), batch)])
            correct += int(probs.mean(0).argmax().item() == y)
    return correct / max(1, len(data.clips))


def _batches(n: int, batch: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for i in range(0, n, batch):
        yield order[i:i + batch]


def _features(net, x, taps: list[int]):
    feats, out = {}, x
    for i, m in enumerate(net):
        out = m(out)
        if i in taps:
            feats[i] = out
    return out, feats


def _match(s, t):
    if s.dim() == 4 and t.dim() == 4:
        h, w = min(s.shape[2], t.shape[2]), min(s.shape[3], t.shape[3])
        s, t = F.adaptive_avg_pool2d(s, (h, w)), F.adaptive_avg_pool2d(t, (h, w))
    return s, t


def fit(net, data: ClipSet, epochs: int, lr: float = 0.01, batch: int = 32, seed: int = 0, teacher=None,
        temperature: float = 4.0, alpha: float = 0.0, feature_pairs: list[list[int]] | None = None,
        beta: float = 0.0, embed_teacher=None, freeze_body: bool = False, log=print) -> dict:
    """Train ``net`` in place; returns {"loss": last epoch mean loss}.

    ``teacher`` + ``alpha`` > 0: Hinton KD; ``feature_pairs`` [[student_layer, teacher_layer], ...] + ``beta``:
    feature distillation; ``embed_teacher``: SEA (MSE of net[:-1] to embed_teacher[:-1], no labels used);
    ``freeze_body``: train only the last layer.  Raises ModelsError for bad layer indices.
    """
    if epochs <= 0:
        return {"loss": None}
    dev = device()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net.to(dev).train()
    body = net[:-1]
    params = list(net[-1].parameters()) if freeze_body else list(net.parameters())
    regressors = nn.ModuleList()
    pairs = feature_pairs or []
    ref = teacher or embed_teacher
    if ref is not None:
        ref.to(dev).eval()
    if pairs:
        if teacher is None:
            raise ModelsError("feature distillation needs a teacher")
        x0 = to_nchw(data.train_arrays(np.random.default_rng(0))[0][:1]).to(dev)
        net.eval()
        with torch.no_grad():
            _, fs = _features(net, x0, [p[0] for p in pairs])
            _, ft = _features(teacher, x0, [p[1] for p in pairs])
        net.train()
        for s_i, t_i in pairs:
            if s_i not in fs or t_i not in ft:
                raise ModelsError(f"feature pair {[s_i, t_i]} names a layer the networks do not have")
            cs, ct = fs[s_i].shape[1], ft[t_i].shape[1]
            regressors.append(nn.Conv2d(cs, ct, 1) if fs[s_i].dim() == 4 else nn.Linear(cs, ct))
        regressors.to(dev)
        params += list(regressors.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    last = None
    for epoch in range(epochs):
        x_all, y_all = data.train_arrays(rng)
        total, count = 0.0, 0
        if freeze_body:
            body.eval()
        for idx in _batches(len(y_all), batch, rng):
            x = to_nchw(x_all[idx]).to(dev)
            y = torch.from_numpy(y_all[idx]).to(dev)
            if embed_teacher is not None:
                with torch.no_grad():
                    target = embed_teacher[:-1](x)
                loss = F.mse_loss(body(x), target)
            else:
                logits, fs = _features(net, x, [p[0] for p in pairs])
                loss = F.cross_entropy(logits, y)
                if teacher is not None:
                    with torch.no_grad():
                        t_logits, ft = _features(teacher, x, [p[1] for p in pairs])
                    if alpha > 0:
                        kd = F.kl_div(F.log_softmax(logits / temperature, 1), F.softmax(t_logits / temperature, 1),
                                      reduction="batchmean") * temperature ** 2
                        loss = (1 - alpha) * loss + alpha * kd
                    if pairs:
                        fd = 0.0
                        for reg, (s_i, t_i) in zip(regressors, pairs):
                            s, t = _match(reg(fs[s_i]), ft[t_i])
                            fd = fd + F.mse_loss(s, t)
                        loss = loss + beta * fd / len(pairs)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.item()) * len(idx)
            count += len(idx)
        sched.step()
        last = total / max(1, count)
        log(f"  epoch {epoch + 1}/{epochs}: loss {last:.4f}")
    net.eval()
    return {"loss": last}


# ---- pruning -------------------------------------------------------------------------------------------

def _prunable(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def magnitude_prune(net, sparsity: float) -> dict:
    """Global L1 unstructured pruning of all conv/linear weights to ``sparsity`` (0..1), masks kept (so
    retraining keeps the zeros).  Returns {"sparsity": measured fraction of zero weights}."""
    if not 0.0 <= sparsity < 1.0:
        raise ModelsError(f"sparsity {sparsity} is outside [0, 1)")
    from torch.nn.utils import prune

    params = [(m, "weight") for m in _prunable(net)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=sparsity)
    return {"sparsity": zero_fraction(net)}


def zero_fraction(net) -> float:
    ws = [m.weight.detach() for m in _prunable(net)]
    return float(sum(int((w == 0).sum()) for w in ws) / max(1, sum(w.numel() for w in ws)))


def finalize_pruning(net) -> None:
    """Make pruning masks permanent (plain weights with zeros), before export."""
    from torch.nn.utils import prune

    for m in _prunable(net):
        if prune.is_pruned(m) and hasattr(m, "weight_orig"):
            prune.remove(m, "weight")


def filter_prune(net, fraction: float, example: np.ndarray) -> dict:
    """Remove ``fraction`` of the filters (L1 importance) of every conv after the first Permute, with
    torch-pruning keeping all dependent layers consistent.  ``example``: one NHWC input.  Returns
    {"params_before", "params_after"}."""
    tp = require("torch_pruning", "torch-pruning")
    from tinyhil_models import arch

    if not 0.0 <= fraction < 1.0:
        raise ModelsError(f"filter fraction {fraction} is outside [0, 1)")
    finalize_pruning(net)
    net.cpu().eval()
    ignored, seen_permute = [], not any(isinstance(m, arch.Permute) for m in net)
    for m in net:
        if isinstance(m, arch.Permute):
            seen_permute = True
        if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)) and not seen_permute:
            ignored.append(m)
    ignored.append([m for m in net if isinstance(m, nn.Linear)][-1])
    before = sum(p.numel() for p in net.parameters())
    pruner = tp.pruner.MagnitudePruner(net, to_nchw(example[None].astype(np.float32)),
                                       importance=tp.importance.MagnitudeImportance(p=1),
                                       pruning_ratio=fraction, ignored_layers=ignored)
    pruner.step()
    return {"params_before": before, "params_after": sum(p.numel() for p in net.parameters())}


# ---- quantization-aware training ------------------------------------------------------------------------

class _WeightFakeQuant(nn.Module):
    """Per-output-channel symmetric int8 fake quantization of a weight (parametrization)."""

    def __init__(self):
        super().__init__()
        from torch.ao.quantization import FakeQuantize, PerChannelMinMaxObserver

        self.fq = FakeQuantize(observer=PerChannelMinMaxObserver, quant_min=-127, quant_max=127, dtype=torch.qint8,
                               qscheme=torch.per_channel_symmetric, ch_axis=0)

    def forward(self, w):
        return self.fq(w)


class ActFakeQuant(nn.Module):
    """Per-tensor affine int8 fake quantization of an activation (moving-average min/max)."""

    def __init__(self):
        super().__init__()
        from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver

        self.fq = FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127,
                               dtype=torch.qint8, qscheme=torch.per_tensor_affine)

    def forward(self, x):
        return self.fq(x)


def prepare_qat(net, activations: bool = True) -> "nn.Sequential":
    """A copy of ``net`` with fake-quantized weights (and activations after every ReLU and at the output)."""
    from torch.nn.utils import parametrize

    finalize_pruning(net)
    q = copy.deepcopy(net)
    for m in _prunable(q):
        parametrize.register_parametrization(m, "weight", _WeightFakeQuant())
    if not activations:
        return q
    layers = []
    for m in q:
        layers.append(m)
        if isinstance(m, nn.ReLU):
            layers.append(ActFakeQuant())
    layers.append(ActFakeQuant())
    return nn.Sequential(*layers)


def strip_qat(q) -> "nn.Sequential":
    """The QAT network as a plain network: weights left on their int8 grid, activation fake-quant removed."""
    from torch.nn.utils import parametrize

    q = copy.deepcopy(q).cpu()
    for m in _prunable(q):
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return nn.Sequential(*[m for m in q if not isinstance(m, ActFakeQuant)])


def count_params(net) -> int:
    """Parameters of a network (BatchNorm affine included, running statistics not)."""
    return int(sum(p.numel() for p in net.parameters()))


def count_nonzero(net) -> int:
    return int(sum(int((p.detach() != 0).sum()) for p in net.parameters()))

