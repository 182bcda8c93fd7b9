"""Export of XNOR networks (:func:`tinyhil_models.arch.xnor_acdnet`) to int8 ``.tflite`` with tinyhil's
binary convolution, the CUSTOM operator ``TH_XNOR_CONV_2D`` specified in :mod:`harness.reference.xnor`.

How: every binary block of the PyTorch network (BatchNorm -> sign -> BinaryConv2d -> BatchNorm -> ReLU) becomes
one Keras layer :class:`XnorBlock` computing the same float function with TF ops; the rest is mirrored layer
for layer (:mod:`tinyhil_models.mirror`).  The TF converter quantizes the whole network to int8 (activation
ranges calibrated on the representative clips, the blocks included); the blocks' own operators (whatever the
converter made of them) are then replaced by one custom operator each with TensorFlow's flatbuffer utilities
(``tensorflow.lite.tools.flatbuffer_utils``), reading the block's input and output tensors and their
quantization from the converted model:

- threshold[c] in the input's int8 domain: BN_in(x)[c] >= 0 <=> q >= ceil(zp - shift_c / (scale_c * s_in)) for
  a positive BatchNorm scale; a negative one is folded into the weight bits of input channel c;
- weights: sign bits of the latent weights; scale[c] = alpha_c * BN_out scale (negative -> bits of filter c
  flipped), bias[c] = BN_out shift.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from tinyhil_models.errors import ModelsError, require


def _bn_affine(bn) -> tuple[np.ndarray, np.ndarray]:
    """BatchNorm2d in eval mode as y = g * x + h per channel (float64)."""
    var = bn.running_var.detach().double().numpy()
    g = bn.weight.detach().double().numpy() / np.sqrt(var + bn.eps)
    h = bn.bias.detach().double().numpy() - bn.running_mean.detach().double().numpy() * g
    return g, h


def split_blocks(net) -> list:
    """The network as a list of segments: ``nn.Sequential`` runs of ordinary layers and ``("xnor", bn_in,
    conv, bn_out)`` tuples for each binary block.  Raises ModelsError for a binary layer outside the pattern."""
    from tinyhil_models import arch

    nn = require("torch").nn
    mods, out, run, i = list(net), [], [], 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.BatchNorm2d) and i + 4 < len(mods) and isinstance(mods[i + 1], arch.SignActivation):
            bn_in, _, conv, bn_out, relu = mods[i:i + 5]
            if not (isinstance(conv, arch.BinaryConv2d) and isinstance(bn_out, nn.BatchNorm2d)
                    and isinstance(relu, nn.ReLU) and conv.kernel_size == (3, 3) and conv.padding == (1, 1)
                    and conv.stride == (1, 1) and conv.bias is None):
                raise ModelsError(f"layer {i}: binary block is not BN, sign, 3x3 BinaryConv2d, BN, ReLU")
            if run:
                out.append(nn.Sequential(*run))
                run = []
            out.append(("xnor", bn_in, conv, bn_out))
            i += 5
            continue
        if isinstance(m, (arch.SignActivation, arch.BinaryConv2d)):
            raise ModelsError(f"layer {i} ({type(m).__name__}) is outside a BN-sign-conv-BN-ReLU block")
        run.append(m)
        i += 1
    if run:
        out.append(nn.Sequential(*run))
    return out


def _xnor_layer_class():
    import keras
    import tensorflow as tf

    class XnorBlock(keras.layers.Layer):
        """BN_in -> sign (+1 iff >= 0) -> 3x3 SAME conv with alpha * sign(W) -> BN_out -> ReLU, in float."""

        def __init__(self, g_in, h_in, kernel_hwio, g_out, h_out, **kw):
            super().__init__(**kw)
            self.c = [tf.constant(v, tf.float32) for v in (g_in, h_in, kernel_hwio, g_out, h_out)]

        def call(self, x):
            g_in, h_in, k, g_out, h_out = self.c
            s = tf.where(x * g_in + h_in >= 0.0, 1.0, -1.0)
            y = tf.nn.conv2d(s, k, 1, "SAME")
            return tf.nn.relu(y * g_out + h_out)

    return XnorBlock


def to_keras(net, input_shape: tuple[int, ...], softmax: bool = True):
    """Keras model of an XNOR network (eval mode), NHWC ``input_shape`` with batch 1; returns (model, blocks)
    where blocks lists per binary block its layer name and the float parameters the rewrite needs."""
    require("tensorflow")
    import keras

    from tinyhil_models import mirror

    XnorBlock = _xnor_layer_class()
    net.eval()
    x = inp = keras.Input(shape=tuple(input_shape[1:]), batch_size=1)
    blocks = []
    for j, seg in enumerate(split_blocks(net)):
        if isinstance(seg, tuple):
            _, bn_in, conv, bn_out = seg
            g_in, h_in = _bn_affine(bn_in)
            g_out, h_out = _bn_affine(bn_out)
            w = conv.weight.detach().double().numpy()  # OIHW
            alpha = np.abs(w).mean(axis=(1, 2, 3))
            signs = np.where(w >= 0, 1.0, -1.0)
            kernel = (signs * alpha[:, None, None, None]).transpose(2, 3, 1, 0)
            name = f"xnorblock{j}"
            x = XnorBlock(g_in, h_in, kernel, g_out, h_out, name=name)(x)
            blocks.append({"name": name, "g_in": g_in, "h_in": h_in, "signs_ohwi": signs.transpose(0, 2, 3, 1),
                           "scale": alpha * g_out, "bias": h_out})
        else:
            sub = mirror.to_keras(seg, (1, *x.shape[1:]), softmax=False)
            sub.name = f"segment{j}"
            x = sub(x)
    if softmax:
        x = keras.layers.Softmax(name="softmax")(x)
    return keras.Model(inp, x), blocks


def export(net, input_shape, path: str | Path, calibration: np.ndarray) -> Path:
    """Write the full-int8 ``.tflite`` of an XNOR network with TH_XNOR_CONV_2D operators; returns the path.
    Raises ModelsError when the converter fails or a block cannot be located in the converted graph."""
    from tinyhil_models.export import to_tflite

    kmodel, blocks = to_keras(net, input_shape)
    path = Path(path)
    to_tflite(kmodel, path, calibration, allow_float_ops=True)
    rewrite(path, blocks)
    return path


def _threshold(g: float, h: float, s_in: float, zp: int) -> tuple[int, bool]:
    """(int8-domain threshold, flip) with sign(g * s_in * (q - zp) + h) = (+1 iff q >= thr) * (-1 if flip)."""
    if g == 0.0:
        return (-1000 if h >= 0 else 1000), False
    t = zp - h / (g * s_in)
    t = min(max(t, -1000.0), 1000.0)
    if g > 0:
        return int(math.ceil(t)), False
    return int(math.floor(t)) + 1, True


def rewrite(path: Path, blocks: list[dict]) -> None:
    """Replace each XnorBlock's operators in the converted ``path`` by one TH_XNOR_CONV_2D operator."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils as fbu

    from harness.reference import xnor as ref
    from harness.reference.segmented import drop_unused_tensors

    model = fbu.read_model(str(path))
    sg = model.subgraphs[0]
    name = lambda t: sg.tensors[t].name.decode() if isinstance(sg.tensors[t].name, bytes) else sg.tensors[t].name  # noqa: E731
    code_index = len(model.operatorCodes)
    oc = schema.OperatorCodeT()
    oc.builtinCode = schema.BuiltinOperator.CUSTOM
    oc.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    oc.customCode = ref.CUSTOM_CODE
    oc.version = 1
    model.operatorCodes.append(oc)

    def const(array: np.ndarray, tname: str, ttype: int) -> int:
        buf = schema.BufferT()
        buf.data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
        model.buffers.append(buf)
        t = schema.TensorT()
        t.shape, t.type, t.buffer, t.name = list(array.shape), ttype, len(model.buffers) - 1, tname
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    for b in blocks:
        pattern = re.compile(rf"(^|[/;]){b['name']}(_\d+)?/")
        idx = [i for i, op in enumerate(sg.operators) if any(pattern.search(name(t)) for t in op.outputs)]
        if not idx:
            raise ModelsError(f"{path.name}: block {b['name']} not found in the converted graph")
        first, last = idx[0], idx[-1]
        produced = {t for op in sg.operators[first:last + 1] for t in op.outputs}
        ins = [t for op in sg.operators[first:last + 1] for t in op.inputs
               if t >= 0 and t not in produced and not _is_constant(model, sg.tensors[t])]
        ins = list(dict.fromkeys(ins))
        x_in, y_out = ins, sg.operators[last].outputs[0]
        # the converter may keep float ops inside the block behind DEQUANTIZE / before QUANTIZE
        if len(x_in) != 1:
            raise ModelsError(f"{path.name}: block {b['name']} has inputs {x_in}; expected one activation")
        x_in = x_in[0]
        for op_i in range(first - 1, -1, -1):
            op = sg.operators[op_i]
            if x_in in op.outputs and model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.DEQUANTIZE:
                x_in, first = op.inputs[0], op_i
            break
        nxt = last + 1
        if sg.tensors[y_out].type != schema.TensorType.INT8 and nxt < len(sg.operators) and \
                model.operatorCodes[sg.operators[nxt].opcodeIndex].builtinCode == schema.BuiltinOperator.QUANTIZE:
            y_out, last = sg.operators[nxt].outputs[0], nxt
        tin, tout = sg.tensors[x_in], sg.tensors[y_out]
        if tin.type != schema.TensorType.INT8 or tout.type != schema.TensorType.INT8:
            raise ModelsError(f"{path.name}: block {b['name']} is not between int8 tensors")
        s_in, zp_in = float(tin.quantization.scale[0]), int(tin.quantization.zeroPoint[0])
        signs = b["signs_ohwi"].copy()
        thr = np.zeros(signs.shape[3], np.int32)
        for c in range(signs.shape[3]):
            thr[c], flip = _threshold(float(b["g_in"][c]), float(b["h_in"][c]), s_in, zp_in)
            if flip:
                signs[:, :, :, c] *= -1
        scale = np.asarray(b["scale"], np.float64)
        signs[scale < 0] *= -1
        scale = np.maximum(np.abs(scale), 1e-12).astype(np.float32)
        op = schema.OperatorT()
        op.opcodeIndex = code_index
        op.inputs = [x_in, const(ref.pack_signs(signs), b["name"] + "/weights", schema.TensorType.INT32),
                     const(thr, b["name"] + "/threshold", schema.TensorType.INT32),
                     const(scale, b["name"] + "/scale", schema.TensorType.FLOAT32),
                     const(np.asarray(b["bias"], np.float32), b["name"] + "/bias", schema.TensorType.FLOAT32)]
        op.outputs = [y_out]
        op.customOptions = list(ref.pack_options(3, 3, 1, 1, "SAME", "RELU"))
        op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS  # the only enum value; bytes are ours
        sg.operators[first:last + 1] = [op]
    drop_unused_tensors(model)
    fbu.write_model(model, str(path))


def _is_constant(model, tensor) -> bool:
    data = model.buffers[tensor.buffer].data
    return data is not None and len(data) > 0
