"""Class names for live predictions: a labels file (one name per line, line i = class i) or, for a 50-class
model, the ESC-50 categories (Piczak, "ESC: Dataset for Environmental Sound Classification", ACM MM 2015;
``meta/esc50.csv`` maps ``target`` to ``category`` in this order)."""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError

ESC50 = ("dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow", "rain", "sea_waves",
         "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind", "pouring_water", "toilet_flush",
         "thunderstorm", "crying_baby", "sneezing", "clapping", "breathing", "coughing", "footsteps", "laughing",
         "brushing_teeth", "snoring", "drinking_sipping", "door_wood_knock", "mouse_click", "keyboard_typing",
         "door_wood_creaks", "can_opening", "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick",
         "glass_breaking", "helicopter", "chainsaw", "siren", "car_horn", "engine", "train", "church_bells",
         "airplane", "fireworks", "hand_saw")


def class_names(n_classes: int, labels_file: Path | None = None) -> tuple[str, ...]:
    """``n_classes`` names: from ``labels_file``, else ESC-50's for 50 classes, else "class <i>". Raises DataError
    when the file is unreadable or has fewer lines than classes."""
    if labels_file is not None:
        try:
            names = [line.strip() for line in Path(labels_file).read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise DataError(f"cannot read labels file {labels_file}: {exc.strerror}; pass one name per line") from None
        if len(names) < n_classes:
            raise DataError(f"{labels_file} names {len(names)} classes, the model has {n_classes}; one name per "
                            "line, line i = class i")
        return tuple(names[:n_classes])
    if n_classes == len(ESC50):
        return ESC50
    return tuple(f"class {i}" for i in range(n_classes))
