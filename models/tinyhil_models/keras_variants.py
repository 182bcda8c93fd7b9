"""Compression of a trained Keras chain model without retraining (the real ACDNet-20 ``.h5``).

A *chain* is a Keras model whose layers run one after the other (Conv2D, BatchNormalization, ReLU, pooling,
Permute, Dropout, Flatten, Dense, Softmax), as the ACDNet authors' Keras ACDNet is.  Three transforms:

- :func:`rebuild` -- the same network with a fixed batch size of 1 (the TF converter then emits no
  SHAPE/STRIDED_SLICE operators before RESHAPE), optionally with fewer filters in some Conv2D layers;
- :func:`magnitude_prune` -- unstructured pruning: the ``sparsity`` fraction of smallest-magnitude weights of
  every Conv2D/Dense kernel set to 0, layer by layer (Han et al. 2015, "Learning both weights and connections");
- :func:`filter_prune` -- structured pruning: in the named Conv2D layers the filters with the smallest L1 norm
  are removed together with the matching BatchNormalization channels and the consumers' input channels
  (Li et al. 2017, "Pruning filters for efficient ConvNets"; the ACDNet paper prunes the TFEB this way).

Only tensorflow/keras is needed (the optional ``models`` extra).  Errors: ModelsError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyhil_models.errors import ModelsError, require

_PASS_THROUGH = {"ReLU", "Activation", "MaxPooling2D", "AveragePooling2D", "Dropout", "Softmax", "InputLayer"}


def _keras():
    require("tensorflow")
    import keras

    return keras


def load_chain(path: str | Path):
    """Load a Keras ``.h5``/``.keras`` model (no compile). Raises ModelsError when unreadable or not a chain."""
    keras = _keras()
    try:
        model = keras.models.load_model(str(path), compile=False)
    except Exception as exc:  # keras raises OSError / ValueError / TypeError for bad files
        raise ModelsError(f"cannot load Keras model {path}: {str(exc).splitlines()[0]}; check the file") from None
    _check_chain(model)
    return model


def _check_chain(model) -> None:
    for layer in model.layers[1:]:
        inbound = layer._inbound_nodes
        if len(inbound) != 1 or len(inbound[0].input_tensors) != 1:
            raise ModelsError(f"layer {layer.name} has several inputs; only chain models can be pruned here")


def conv_layers(model) -> list[str]:
    """Names of the Conv2D layers of a chain, in order."""
    return [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]


def rebuild(model, keep: dict[str, np.ndarray] | None = None, weights: dict[str, list[np.ndarray]] | None = None):
    """A copy of chain ``model`` with batch size 1, keeping only the output channels ``keep[name]`` (sorted
    int indices) of the named Conv2D layers, and with the given replacement ``weights`` per layer name.

    Channel removal is propagated: the following BatchNormalization drops the same channels, the next
    Conv2D / Dense drops the matching input channels.  Raises ModelsError when a pruned channel set would
    cross a Permute, or a Flatten with spatial size > 1.
    """
    keras = _keras()
    keep = keep or {}
    weights = weights or {}
    src_in = model.inputs[0]
    x = inp = keras.Input(shape=tuple(src_in.shape[1:]), batch_size=1, name=model.layers[0].name)
    kept: np.ndarray | None = None  # channels of the current tensor kept from the source network
    for layer in model.layers[1:]:
        kind = type(layer).__name__
        cfg = layer.get_config()
        w = [np.array(a) for a in weights.get(layer.name, layer.get_weights())]
        if kind == "Conv2D":
            if kept is not None:
                w[0] = w[0][:, :, kept, :]
            if layer.name in keep:
                idx = np.asarray(sorted(keep[layer.name]), dtype=int)
                w[0] = w[0][..., idx]
                if len(w) > 1:
                    w[1] = w[1][idx]
                cfg["filters"] = len(idx)
                kept = idx
            else:
                kept = None
        elif kind == "BatchNormalization":
            if kept is not None:
                w = [a[kept] for a in w]
        elif kind == "Dense":
            if kept is not None:
                w[0] = w[0][kept, :]
            kept = None
        elif kind == "Flatten":
            if kept is not None and int(np.prod(x.shape[1:-1])) != 1:
                raise ModelsError(f"pruned channels reach {layer.name} over a {list(x.shape[1:])} tensor; "
                                  "prune only layers whose channels stay the last axis until a 1x1 Flatten")
        elif kind == "Permute":
            if kept is not None:
                raise ModelsError(f"pruned channels of an earlier layer would cross {layer.name}; "
                                  "prune only layers after the Permute")
        elif kind not in _PASS_THROUGH:
            raise ModelsError(f"layer {layer.name} ({kind}) is not supported by the chain rebuild")
        new = type(layer).from_config(cfg)
        x = new(x)
        if w:
            new.set_weights(w)
    return keras.Model(inp, x, name=model.name)


def magnitude_prune(model, sparsity: float) -> tuple[object, dict]:
    """Zero the ``sparsity`` fraction (0..1) of smallest-|w| entries of every Conv2D and Dense kernel, per layer.

    Returns (pruned chain model with batch size 1, {"zeroed": n, "total": n} over those kernels).
    Ties at the threshold are broken by position so exactly floor(sparsity * size) entries are zeroed.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ModelsError(f"sparsity {sparsity} is outside [0, 1); use e.g. 0.5 for 50%")
    new_weights, zeroed, total = {}, 0, 0
    for layer in model.layers:
        if type(layer).__name__ not in ("Conv2D", "Dense"):
            continue
        w = [np.array(a) for a in layer.get_weights()]
        flat = w[0].reshape(-1)
        n = int(np.floor(sparsity * flat.size))
        order = np.argsort(np.abs(flat), kind="stable")
        flat = flat.copy()
        flat[order[:n]] = 0.0
        w[0] = flat.reshape(w[0].shape)
        new_weights[layer.name] = w
        zeroed += n
        total += flat.size
    return rebuild(model, weights=new_weights), {"zeroed": zeroed, "total": total}


def filter_prune(model, fraction: float, layers: list[str]) -> tuple[object, dict]:
    """Remove the ``fraction`` of filters with smallest L1 norm from each named Conv2D layer (at least one
    filter stays).  Returns (pruned chain with batch size 1, {layer: [kept, original]})."""
    if not 0.0 <= fraction < 1.0:
        raise ModelsError(f"filter fraction {fraction} is outside [0, 1)")
    by_name = {layer.name: layer for layer in model.layers}
    keep, widths = {}, {}
    for name in layers:
        layer = by_name.get(name)
        if layer is None or type(layer).__name__ != "Conv2D":
            raise ModelsError(f"{name} is not a Conv2D layer of {model.name}; Conv2D layers: {conv_layers(model)}")
        kernel = np.array(layer.get_weights()[0])
        l1 = np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)
        n_keep = max(1, int(round(kernel.shape[-1] * (1.0 - fraction))))
        keep[name] = np.sort(np.argsort(-l1, kind="stable")[:n_keep])
        widths[name] = [n_keep, int(kernel.shape[-1])]
    return rebuild(model, keep=keep), widths


def count_params(model) -> int:
    """Number of weights of a Keras model (BatchNormalization statistics included)."""
    return int(sum(np.prod(w.shape) for w in model.weights))


def nonzero_params(model) -> int:
    """Number of nonzero weights of a Keras model."""
    return int(sum(np.count_nonzero(np.array(w)) for w in model.weights))
