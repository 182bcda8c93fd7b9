"""PyTorch architectures, each an ``nn.Sequential`` of export-friendly layers (NCHW inputs).

Every network is a chain of Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Dropout, :class:`Permute`,
Flatten (after a 1x1 spatial map), Linear and :class:`BinaryConv2d` / :class:`SignActivation`, so that
:mod:`tinyhil_models.mirror` can rebuild it layer for layer in Keras for the TFLite converter, and feature
distillation can tap any layer by index.

- :func:`acdnet` -- ACDNet (Mohaimenuzzaman et al., Pattern Recognition 2022): SFEB (two strided 1-D convs
  on the raw waveform + max pool to 10 ms frames), a swap of channel and height axes, TFEB (3x3 conv blocks
  with max pools), 1x1 conv, average pool, dense.  ``ACDNET_WIDTHS`` (full), ``ACDNET20_WIDTHS`` (ACDNet-20,
  the authors' deployed model, read from its .h5) and ``MICRO_ACDNET_WIDTHS``.
- :func:`vggish_teacher` / :func:`cnn_student` -- VGGish-style CNN over 96x64 log-mel patches (Hershey et al.
  2017: 3x3 conv blocks 64-128-256-512 with 2x2 max pools) with a width multiplier, and small student CNNs.
- :func:`l3_embedding` -- an L3-Net-style audio embedding network (Arandjelovic & Zisserman 2017; Cramer et
  al. 2019 "Look, listen and learn more": 4 blocks of two 3x3 convs + BN + ReLU + max pool, global max pool to
  the embedding); SEA students (Srivastava et al. 2022, "Specialized embedding approximation") are narrower
  L3 nets trained to reproduce the teacher's embedding.
- :func:`xnor_acdnet` -- XNOR-Net ACDNet (Rastegari et al. 2016): first convolution and final classifier in
  full precision; TFEB convolutions binary (sign weights with a per-filter scale = mean |w|, sign activations,
  straight-through estimator), each preceded by BatchNorm + sign as in XNOR-Net's block order.
"""

from __future__ import annotations

from tinyhil_models.errors import ModelsError, require

torch = require("torch")
nn = torch.nn

#: ACDNet channel configurations [conv1..conv12]; the last entry is the 1x1 conv (= classes in the full net).
ACDNET_WIDTHS = [8, 64, 32, 64, 64, 128, 128, 256, 256, 512, 512, 50]
#: ACDNet-20 as deployed by the authors (read from acdnet20_20khz_fold4.h5).
ACDNET20_WIDTHS = [4, 32, 12, 12, 23, 18, 38, 43, 62, 58, 77, 37]
#: Micro-ACDNet: a much smaller ACDNet of the size class the paper reports for its most compressed model
#: (tens of thousands of parameters; 22,652 with 50 classes).  An approximation chosen here, not the
#: authors' exact per-layer widths (their pruned checkpoint holds those).
MICRO_ACDNET_WIDTHS = [4, 16, 6, 6, 12, 10, 16, 18, 24, 22, 28, 20]


class Permute(nn.Module):
    """Swap the channel and height axes (NCHW -> NHCW), ACDNet's SFEB -> TFEB hand-over."""

    def forward(self, x):
        return x.permute(0, 2, 1, 3).contiguous()


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)  # straight-through estimator clipped at |x| <= 1


def sign(x):
    """+1 for x >= 0, -1 otherwise (the convention of tinyhil's XNOR kernel), with a straight-through gradient."""
    return _SignSTE.apply(x)


class SignActivation(nn.Module):
    """Binary activation: sign(x) in {-1, +1}."""

    def forward(self, x):
        return sign(x)


class BinaryConv2d(nn.Conv2d):
    """XNOR-Net convolution: weights binarized to alpha_c * sign(W_c) with alpha_c = mean |W_c| per output
    filter (Rastegari et al. 2016, eq. 6), real-valued weights kept for the optimizer; no padding beyond
    zeros (padded taps contribute 0, as in tinyhil's kernel)."""

    def binary_weight(self):
        alpha = self.weight.abs().mean(dim=(1, 2, 3), keepdim=True)
        return sign(self.weight) * alpha

    def forward(self, x):
        return nn.functional.conv2d(x, self.binary_weight(), self.bias, self.stride, self.padding, self.dilation)


def _tfeb_pools(length: int) -> list[int]:
    out, index = [], 1
    while index <= 6:
        if length >= 2:
            out.append(length if index == 6 else 2)
            if index != 6:
                length //= 2
        else:
            out.append(1)
        index += 1
    return out


def acdnet(n_classes: int = 50, widths: list[int] | None = None, input_length: int = 30225,
           sample_rate: int = 20000, binary: bool = False) -> nn.Sequential:
    """ACDNet as ``nn.Sequential``; input [N, 1, 1, input_length] float, output logits [N, n_classes].

    ``binary=True`` gives the XNOR-Net variant (see module doc).  Pool sizes follow the authors' rule
    (TFEB pools of 2 until the last, which takes what is left)."""
    w = list(widths or ACDNET_WIDTHS)
    if len(w) != 12:
        raise ModelsError(f"ACDNet widths need 12 entries, got {len(w)}")
    sfeb_pool = int(sample_rate / 1000 * 10 / 4)
    frames = (((input_length - 9) // 2 + 1) - 5) // 2 + 1
    frames //= sfeb_pool
    if frames < 1:
        raise ModelsError(f"input length {input_length} is too short for ACDNet at {sample_rate} Hz")
    pool_h, pool_w = _tfeb_pools(w[1]), _tfeb_pools(frames)
    layers: list[nn.Module] = [
        nn.Conv2d(1, w[0], (1, 9), (1, 2), bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(),
        nn.Conv2d(w[0], w[1], (1, 5), (1, 2), bias=False), nn.BatchNorm2d(w[1]), nn.ReLU(),
        nn.MaxPool2d((1, sfeb_pool)), Permute(),
    ]

    def block(cin, cout):
        if binary and cin > 1:
            return [nn.BatchNorm2d(cin), SignActivation(), BinaryConv2d(cin, cout, 3, padding=1, bias=False),
                    nn.BatchNorm2d(cout), nn.ReLU()]
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    cin = 1
    for p, group in enumerate(((2,), (3, 4), (5, 6), (7, 8), (9, 10))):
        for i in group:
            layers += block(cin, w[i])
            cin = w[i]
        if pool_h[p] > 1 or pool_w[p] > 1:
            layers.append(nn.MaxPool2d((pool_h[p], pool_w[p])))
        p += 1
    layers += [nn.Dropout(0.2), nn.Conv2d(cin, w[11], 1, bias=False), nn.BatchNorm2d(w[11]), nn.ReLU()]
    if pool_h[-1] > 1 or pool_w[-1] > 1:
        layers.append(nn.AvgPool2d((pool_h[-1], pool_w[-1])))
    layers += [nn.Flatten(), nn.Linear(w[11], n_classes)]
    return nn.Sequential(*layers)


def xnor_acdnet(n_classes: int = 50, widths: list[int] | None = None, input_length: int = 30225,
                sample_rate: int = 20000) -> nn.Sequential:
    """Binarized ACDNet (XNOR-Net); see :func:`acdnet`."""
    return acdnet(n_classes, widths, input_length, sample_rate, binary=True)


def _conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def _global_pool(frames: int, bands: int, kind: str = "avg"):
    """Pool a [C, frames, bands] map to 1x1 (a fixed-size pool: exports as one AVERAGE/MAX_POOL_2D)."""
    return nn.AvgPool2d((frames, bands)) if kind == "avg" else nn.MaxPool2d((frames, bands))


def vgg_like(n_out: int, widths: list[int], frames: int = 96, bands: int = 64, convs_per_block: int = 1,
             hidden: int = 0, pool: str = "avg") -> nn.Sequential:
    """VGG-style CNN on [N, 1, frames, bands] log-mel patches: per width a block of ``convs_per_block`` 3x3
    conv + BN + ReLU and a 2x2 max pool, then a global pool, an optional hidden dense layer, a dense output."""
    layers, cin, h, w = [], 1, frames, bands
    for cout in widths:
        for _ in range(convs_per_block):
            layers += _conv_bn_relu(cin, cout)
            cin = cout
        if h >= 2 and w >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
    layers += [_global_pool(h, w, pool), nn.Flatten()]
    if hidden:
        layers += [nn.Linear(cin, hidden), nn.ReLU()]
        cin = hidden
    layers.append(nn.Linear(cin, n_out))
    return nn.Sequential(*layers)


def vggish_teacher(n_classes: int = 10, width: float = 1.0, frames: int = 96, bands: int = 64) -> nn.Sequential:
    """VGGish-style teacher: blocks 64-128-256-512 (x ``width``), two convs in the deeper blocks as VGGish
    (here: two per block), a 128-unit embedding layer, then the classifier."""
    widths = [max(4, int(round(c * width))) for c in (64, 128, 256, 512)]
    return vgg_like(n_classes, widths, frames, bands, convs_per_block=2, hidden=max(8, int(round(128 * width))))


def cnn_student(n_classes: int = 10, widths: list[int] | None = None, frames: int = 96, bands: int = 64
                ) -> nn.Sequential:
    """A small student CNN (one conv per block), default widths 16-32-64."""
    return vgg_like(n_classes, list(widths or [16, 32, 64]), frames, bands, convs_per_block=1)


def l3_embedding(embedding: int = 512, width: float = 1.0, frames: int = 96, bands: int = 64) -> nn.Sequential:
    """L3-Net-style audio embedding network: blocks 64-128-256-512 (x ``width``) of two 3x3 convs, global max
    pool; output [N, embedding] (a 1x1 conv to ``embedding`` channels when the last block is narrower)."""
    widths = [max(4, int(round(c * width))) for c in (64, 128, 256, 512)]
    layers, cin, h, w = [], 1, frames, bands
    for cout in widths:
        layers += _conv_bn_relu(cin, cout) + _conv_bn_relu(cout, cout)
        cin = cout
        if h >= 2 and w >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
    if cin != embedding:
        layers += [nn.Conv2d(cin, embedding, 1, bias=True), nn.ReLU()]
    layers += [_global_pool(h, w, "max"), nn.Flatten()]
    return nn.Sequential(*layers)


def with_classifier(embedding_net: nn.Sequential, embedding: int, n_classes: int) -> nn.Sequential:
    """Embedding network + a dense classifier head (the deployed SEA model)."""
    return nn.Sequential(*embedding_net, nn.Linear(embedding, n_classes))


def build(spec: dict, n_classes: int, frontend) -> nn.Sequential:
    """A network from a recipe's model spec: ``{arch: acdnet|xnor_acdnet|vggish|student|l3, ...options}``.
    Raises ModelsError for an unknown architecture or option."""
    spec = dict(spec)
    arch = spec.pop("arch", None)
    shape = frontend.input_shape()
    try:
        if arch in ("acdnet", "xnor_acdnet"):
            widths = spec.pop("widths", "acdnet20")
            named = {"acdnet": ACDNET_WIDTHS, "acdnet20": ACDNET20_WIDTHS, "micro_acdnet": MICRO_ACDNET_WIDTHS}
            widths = named[widths] if isinstance(widths, str) else widths
            if isinstance(widths, list) and spec.pop("scale", None):
                raise ModelsError("give ACDNet widths or a name, not a scale")
            fn = xnor_acdnet if arch == "xnor_acdnet" else acdnet
            return fn(n_classes, widths, input_length=shape[2], sample_rate=frontend.sample_rate, **spec)
        if arch == "vggish":
            return vggish_teacher(n_classes, frames=shape[1], bands=shape[2], **spec)
        if arch == "student":
            return cnn_student(n_classes, frames=shape[1], bands=shape[2], **spec)
        if arch == "l3":
            emb = spec.pop("embedding", 512)
            return with_classifier(l3_embedding(emb, frames=shape[1], bands=shape[2], **spec), emb, n_classes)
    except (TypeError, KeyError) as exc:
        raise ModelsError(f"bad options for architecture {arch!r}: {exc}") from None
    raise ModelsError(f"unknown architecture {arch!r}; use acdnet, xnor_acdnet, vggish, student or l3")
