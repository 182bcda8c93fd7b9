"""PyTorch ``nn.Sequential`` -> the same network in Keras (NHWC, batch size 1), weights copied, for the TF
converter.

Why not litert-torch: its wheel requires transformers, jax, torchao, kagglehub, sentencepiece and
litert-lm-builder besides torch (measured from its metadata), far heavier than this project's ``models``
extra; the ONNX route (onnx2tf) adds onnx, onnx-graphsurgeon and more.  The architectures of
:mod:`tinyhil_models.arch` use a small set of layers, each with an exact Keras counterpart, so a layer-by-layer
mirror is short and checked numerically (:func:`max_abs_difference`, tests/models).

Layout: torch NCHW <-> Keras NHWC; conv kernels OIHW -> HWIO; Linear [out, in] -> Dense [in, out];
:class:`arch.Permute` (swap C and H) -> ``Permute((3, 2, 1))``; Flatten only after a 1x1 map (same order in
both layouts); torch padding p of a stride-1 conv with kernel k = 2p + 1 -> "same", p = 0 -> "valid", other
paddings -> ZeroPadding2D + "valid".  BatchNorm2d -> BatchNormalization (eps copied; the converter folds it).
Binary layers (XNOR) are refused here: :mod:`tinyhil_models.xnor` exports them.
"""

from __future__ import annotations

import numpy as np

from tinyhil_models.errors import ModelsError, require


def to_keras(net, input_shape: tuple[int, ...], softmax: bool = False):
    """Keras model equal to ``net`` (eval mode) for NHWC input ``input_shape`` (batch 1 included);
    ``softmax=True`` appends a Softmax (deployed classifiers output probabilities, as ACDNet's .tflite).

    Raises ModelsError for a layer without a mirror."""
    require("tensorflow")
    import keras

    from tinyhil_models import arch

    torch = require("torch")
    nn = torch.nn
    net.eval()
    x = inp = keras.Input(shape=tuple(input_shape[1:]), batch_size=1)
    for i, m in enumerate(net):
        name = f"l{i}_{type(m).__name__.lower()}"
        if isinstance(m, (arch.BinaryConv2d, arch.SignActivation)):
            raise ModelsError(f"layer {i} is binary; export XNOR networks with tinyhil_models.xnor")
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            ph, pw = m.padding if isinstance(m.padding, tuple) else (m.padding, m.padding)
            if m.groups != 1:
                raise ModelsError(f"layer {i}: grouped convolution has no mirror")
            same = m.stride == (1, 1) and kh == 2 * ph + 1 and kw == 2 * pw + 1 and (ph or pw)
            if (ph or pw) and not same:
                x = keras.layers.ZeroPadding2D(((ph, ph), (pw, pw)), name=name + "_pad")(x)
            layer = keras.layers.Conv2D(m.out_channels, (kh, kw), strides=m.stride,
                                        padding="same" if same else "valid", dilation_rate=m.dilation,
                                        use_bias=m.bias is not None, name=name)
            x = layer(x)
            w = [m.weight.detach().numpy().transpose(2, 3, 1, 0)]
            if m.bias is not None:
                w.append(m.bias.detach().numpy())
            layer.set_weights(w)
        elif isinstance(m, nn.BatchNorm2d):
            layer = keras.layers.BatchNormalization(epsilon=m.eps, name=name)
            x = layer(x)
            layer.set_weights([m.weight.detach().numpy(), m.bias.detach().numpy(),
                               m.running_mean.numpy(), m.running_var.numpy()])
        elif isinstance(m, nn.ReLU):
            x = keras.layers.ReLU(name=name)(x)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size, m.kernel_size)
            s = m.stride if isinstance(m.stride, tuple) else (m.stride, m.stride)
            cls = keras.layers.MaxPooling2D if isinstance(m, nn.MaxPool2d) else keras.layers.AveragePooling2D
            x = cls(pool_size=k, strides=s, padding="valid", name=name)(x)
        elif isinstance(m, nn.Dropout):
            continue
        elif isinstance(m, arch.Permute):
            x = keras.layers.Permute((3, 2, 1), name=name)(x)
        elif isinstance(m, nn.Flatten):
            if len(x.shape) == 4 and x.shape[1] * x.shape[2] != 1:
                raise ModelsError(f"layer {i}: Flatten over a {list(x.shape[1:3])} map has no order-preserving "
                                  "mirror; pool to 1x1 first")
            x = keras.layers.Flatten(name=name)(x)
        elif isinstance(m, nn.Linear):
            layer = keras.layers.Dense(m.out_features, use_bias=m.bias is not None, name=name)
            x = layer(x)
            w = [m.weight.detach().numpy().T]
            if m.bias is not None:
                w.append(m.bias.detach().numpy())
            layer.set_weights(w)
        else:
            raise ModelsError(f"layer {i} ({type(m).__name__}) has no Keras mirror")
    if softmax:
        x = keras.layers.Softmax(name="softmax")(x)
    return keras.Model(inp, x)


def nchw(x: np.ndarray) -> np.ndarray:
    """NHWC batch -> NCHW batch."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def max_abs_difference(net, kmodel, x_nhwc: np.ndarray) -> float:
    """Largest |torch(x) - keras(x)| over a batch of NHWC inputs (float32)."""
    torch = require("torch")
    net.eval()
    with torch.no_grad():
        a = net(torch.from_numpy(nchw(x_nhwc.astype(np.float32)))).numpy()
    b = np.concatenate([kmodel(x[None], training=False).numpy() for x in x_nhwc.astype(np.float32)])
    return float(np.abs(a.reshape(b.shape) - b).max())
