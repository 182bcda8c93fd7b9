"""Recipe steps on PyTorch networks: training, distillation, SEA, pruning, QAT, binarization, export."""

from __future__ import annotations

import copy
from pathlib import Path

from tinyhil_models import arch, train
from tinyhil_models.errors import ModelsError


class TorchRunner:
    """Holds the recipe's networks by name; ``step`` runs one recipe step, ``export`` writes a .tflite."""

    def __init__(self, recipe, frontend, n_classes: int, train_clips, val_clips, log=print) -> None:
        self.recipe, self.frontend, self.log = recipe, frontend, log
        self.train = train.ClipSet(train_clips, frontend)
        self.val = train.ClipSet(val_clips, frontend)
        self.nets = {name: arch.build(spec, n_classes, frontend) for name, spec in recipe.models.items()}
        self.qat = {}  # name -> network with fake quantization (exported through strip_qat)
        self.history = {name: [{"op": "init", **spec}] for name, spec in recipe.models.items()}
        self.accuracy = {}

    def _net(self, name: str):
        return self.qat.get(name) or self.nets[name]

    def step(self, step) -> None:
        x = dict(step.model_extra or {})
        name = step.model
        common = {k: x[k] for k in ("epochs", "lr", "batch") if k in x}
        common.setdefault("epochs", 1)
        seed = self.recipe.seed
        info: dict = {}
        if step.op == "train":
            info = train.fit(self._net(name), self.train, seed=seed, freeze_body=bool(x.get("freeze_body")),
                             log=self.log, **common)
        elif step.op == "distill":
            teacher = self._net(x["teacher"])
            info = train.fit(self._net(name), self.train, seed=seed, teacher=teacher,
                             temperature=float(x.get("temperature", 4.0)), alpha=float(x.get("alpha", 0.9)),
                             feature_pairs=x.get("feature_pairs"), beta=float(x.get("beta", 0.0)),
                             log=self.log, **common)
        elif step.op == "embed":
            info = train.fit(self._net(name), self.train, seed=seed, embed_teacher=self._net(x["teacher"]),
                             log=self.log, **common)
        elif step.op == "copy":
            self.nets[name] = copy.deepcopy(self.nets[x["from"]])
            self.history[name] = list(self.history[x["from"]])
        elif step.op == "magnitude_prune":
            info = train.magnitude_prune(self.nets[name], float(x["sparsity"]))
        elif step.op == "filter_prune":
            example = self.train.train_arrays(__import__("numpy").random.default_rng(0))[0][0]
            info = train.filter_prune(self.nets[name], float(x["fraction"]), example)
        elif step.op == "qat":
            base = train.strip_qat(self.qat[name]) if name in self.qat else self.nets[name]
            self.qat[name] = train.prepare_qat(base, activations=bool(x.get("activations", True)))
            teacher = self._net(x["teacher"]) if "teacher" in x else None
            info = train.fit(self.qat[name], self.train, seed=seed, teacher=teacher,
                             temperature=float(x.get("temperature", 4.0)),
                             alpha=float(x.get("alpha", 0.5 if teacher is not None else 0.0)), log=self.log, **common)
        elif step.op == "binarize":
            src = self.nets[x["from"]]
            target = self.nets[name]
            if not any(isinstance(m, arch.BinaryConv2d) for m in target):
                raise ModelsError(f"binarize: model {name} is not an XNOR network (arch: xnor_acdnet)")
            _copy_matching(src, target)
        if step.op in ("train", "distill", "embed", "qat") and step.op != "embed":
            info["val_accuracy"] = train.evaluate(self._net(name), self.val)
            self.accuracy[name] = info["val_accuracy"]
            self.log(f"  {name}: validation top-1 {info['val_accuracy']:.3f}")
        self.history.setdefault(name, []).append({"op": step.op, **x, "result": info})

    def deployable(self, name: str):
        net = train.strip_qat(self.qat[name]) if name in self.qat else copy.deepcopy(self.nets[name]).cpu()
        train.finalize_pruning(net)
        return net.eval()

    def export(self, name: str, file: Path, dtype: str, calibration) -> dict:
        from tinyhil_models.export import to_tflite

        net = self.deployable(name)
        info = {"params": train.count_params(net), "nonzero_params": train.count_nonzero(net),
                "val_accuracy": train.evaluate(net, self.val), "history": self.history.get(name, [])}
        if dtype == "xnor-int8":
            from tinyhil_models.xnor import export as export_xnor

            if not any(isinstance(m, arch.BinaryConv2d) for m in net):
                raise ModelsError(f"xnor-int8 export of {name}: not an XNOR network (arch: xnor_acdnet)")
            export_xnor(net, self.frontend.input_shape(), file, calibration)
            return info
        if any(isinstance(m, (arch.BinaryConv2d, arch.SignActivation)) for m in net):
            raise ModelsError(f"variant of {name} is an XNOR network: export it as xnor-int8")
        from tinyhil_models.mirror import to_keras

        kmodel = to_keras(net, self.frontend.input_shape(), softmax=True)
        to_tflite(kmodel, file, calibration if dtype == "int8" else None)
        return info


def _copy_matching(src, dst) -> int:
    """Copy a full-precision network's weights into its XNOR twin: conv/linear layers paired in order, and the
    BatchNorm directly after each paired conv (the XNOR net's extra pre-sign BatchNorms keep their init).
    Returns the number of layers copied; raises ModelsError when shapes differ (different widths)."""
    import torch.nn as nn

    def weighted(net):
        out, prev = [], None
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                out.append(m)
            elif isinstance(m, nn.BatchNorm2d) and isinstance(prev, nn.Conv2d):
                out.append(m)
            prev = m
        return out

    a, b = weighted(src), weighted(dst)
    if len(a) != len(b):
        raise ModelsError(f"binarize: {len(a)} vs {len(b)} weighted layers; use the same widths for both models")
    for m, n in zip(a, b):
        if type(m) is not type(n) and not (isinstance(m, nn.Conv2d) and isinstance(n, nn.Conv2d)):
            raise ModelsError(f"binarize: layer kinds differ ({type(m).__name__} vs {type(n).__name__})")
        sd = m.state_dict()
        if any(sd[k].shape != v.shape for k, v in n.state_dict().items() if k in sd):
            raise ModelsError("binarize: layer shapes differ; use the same widths for both models")
        n.load_state_dict(sd, strict=False)
    return len(a)
