"""`training_curve.png`: loss and masked accuracy by step, from the CSV log.

The log has one row per Keras epoch, which `pretrain` makes one checkpoint
interval (`steps_per_epoch` steps) long.
"""

import csv


def plot_training_curve(log_path, image_path, steps_per_epoch=1):
    """Draw the curve; returns the labels of the lines drawn, per panel
    (`{}`, and nothing drawn, without matplotlib or log rows)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    with open(log_path, encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return {}
    steps = [(int(row["epoch"]) + 1) * steps_per_epoch for row in rows]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    # An AlbertMaskedLM logs `sparse_categorical_accuracy`; an AlbertPreTrainer
    # `masked_lm_accuracy` and `sentence_order_accuracy`, and its `loss` is
    # the sum of both objectives', drawn beside its masked-LM part.
    curves = [
        (loss_axis, "loss", ""),
        (loss_axis, "masked_lm_loss", "masked LM, "),
        (accuracy_axis, "sparse_categorical_accuracy", ""),
        (accuracy_axis, "masked_lm_accuracy", ""),
        (accuracy_axis, "sentence_order_accuracy", "sentence order, "),
    ]
    for axis, metric, what in curves:
        for prefix, label in [("", "train"), ("val_", "held out")]:
            if prefix + metric in rows[0]:
                values = [float(row[prefix + metric]) for row in rows]
                axis.plot(steps, values, marker="o", label=what + label)
    panels = {"loss": loss_axis, "accuracy": accuracy_axis}
    for title, axis in panels.items():
        axis.set_xlabel("step" if steps_per_epoch > 1 else "epoch")
        axis.set_title(title)
        axis.legend()
    figure.tight_layout()
    figure.savefig(image_path, dpi=100)
    plt.close(figure)
    return {
        title: [line.get_label() for line in axis.get_lines()]
        for title, axis in panels.items()
    }
