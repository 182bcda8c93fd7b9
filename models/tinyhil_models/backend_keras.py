"""Recipe steps on a trained Keras chain model (no retraining): magnitude and filter pruning, export."""

from __future__ import annotations

from pathlib import Path

from tinyhil_models import keras_variants as kv
from tinyhil_models.errors import ModelsError


class KerasRunner:
    """Holds the recipe's Keras models by name; ``step`` applies one pruning step, ``export`` writes .tflite."""

    def __init__(self, recipe, frontend, local, log=print) -> None:
        self.models, self.history, self.log = {}, {}, log
        for name, spec in recipe.models.items():
            if "keras" not in spec:
                raise ModelsError(f"model {name}: a recipe mixes Keras and PyTorch models; use one kind")
            src = str(spec["keras"])
            if src.startswith("zoo:"):
                from harness.data.fetch import fetch_model

                path = fetch_model(src[4:], local)
            else:
                path = Path(src).expanduser()
            self.models[name] = kv.load_chain(path)
            self.history[name] = [{"op": "load", "source": Path(path).name}]
            expect = tuple(frontend.input_shape()[1:])
            got = tuple(self.models[name].inputs[0].shape[1:])
            if got != expect:
                raise ModelsError(f"model {name} takes input {list(got)}, the recipe front end gives {list(expect)}")

    def step(self, step) -> None:
        extra = step.model_extra or {}
        src = self.models[extra.get("from", step.model)]
        if step.op == "copy":
            self.models[step.model] = kv.rebuild(src)
            info = {}
        elif step.op == "magnitude_prune":
            self.models[step.model], info = kv.magnitude_prune(src, float(extra["sparsity"]))
        elif step.op == "filter_prune":
            layers = extra.get("layers", "after_permute")
            if layers == "after_permute":
                names = [l.name for l in src.layers]
                perm = [i for i, l in enumerate(src.layers) if type(l).__name__ == "Permute"]
                start = perm[0] if perm else 0
                layers = [n for i, n in enumerate(names) if i > start and n in kv.conv_layers(src)]
            self.models[step.model], info = kv.filter_prune(src, float(extra["fraction"]), list(layers))
        else:
            raise ModelsError(f"step {step.op} needs a PyTorch model (training); Keras models take "
                              "copy, magnitude_prune and filter_prune")
        self.history[step.model] = self.history.get(extra.get("from", step.model), []) + [
            {"op": step.op, **{k: v for k, v in extra.items()}, **({"result": info} if info else {})}]

    def export(self, name: str, file: Path, dtype: str, calibration) -> dict:
        from tinyhil_models.export import to_tflite

        model = kv.rebuild(self.models[name])
        if dtype == "xnor-int8":
            raise ModelsError("xnor-int8 export needs a PyTorch XNOR network")
        to_tflite(model, file, calibration if dtype == "int8" else None)
        return {"params": kv.count_params(model), "nonzero_params": kv.nonzero_params(model),
                "history": self.history.get(name, [])}
