"""``python -m tinygrad_edu train``: train an MLP or a small CNN on the bundled handwritten
digits, the way a PyTorch script would.

The lecture's recipe, end to end: data split into training, validation and test sets (二.III),
a model (三.II MLP or 七 CNN), mini-batch SGD-style training (五.II) with backprop (五.III.2),
validation accuracy after every epoch to pick the best epoch, and one final test score::

    python -m tinygrad_edu train                    # the MLP demo
    python -m tinygrad_edu train --model cnn --save cnn.npz
    python -m tinygrad_edu train --model mlp --epochs 5 --lr 3e-3 --batch-size 64 --seed 1

The last line printed is ``test accuracy: 0.9xxx``.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import datasets, nn, no_grad
from ._random import manual_seed
from .factories import ones, zeros
from .nn import functional as F
from .optim import Adam
from .optim.lr_scheduler import CosineAnnealingLR
from .utils.data import DataLoader, TensorDataset, train_val_test_split

# per-model defaults: the bare command reproduces the README's reference results
DEFAULTS = {
    "mlp": {"epochs": 30, "lr": 2e-3, "batch_size": 32},
    "cnn": {"epochs": 12, "lr": 3e-3, "batch_size": 32},
}


class Standardize(nn.Module):
    """``x -> (x - mean) / scale`` per input feature, with ``mean`` and ``scale`` buffers set
    by ``fit`` from the training set only (so they are saved with the weights, and validation
    and test data never leak into anything the model is fitted with)."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", zeros(num_features))
        self.register_buffer("scale", ones(num_features))

    def fit(self, x) -> Standardize:
        x = x._data.reshape(len(x), -1)
        self.mean._data[...] = x.mean(axis=0)
        self.scale._data[...] = x.std(axis=0) + 0.1  # +0.1: border pixels are almost always blank
        return self

    def forward(self, x):
        return (x - self.mean) / self.scale


def build_model(name: str) -> nn.Module:
    """``mlp``: standardised pixels -> 64 -> 128 -> 64 -> 10. ``cnn``: two 3x3 convolutions with
    batch norm, ReLU and 2x2 max-pooling (8x8 -> 4x4 -> 2x2), then dropout and a linear layer.
    Both return logits."""
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), Standardize(64), nn.MLP([64, 128, 64, 10]))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),  # (N, 16, 8, 8)
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 16, 4, 4)
            nn.Conv2d(16, 32, 3, padding=1),  # (N, 32, 4, 4)
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 32, 2, 2)
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(32 * 2 * 2, 10),
        )
    raise ValueError(f"train: unknown model {name!r}; choose mlp or cnn")


def accuracy(model: nn.Module, loader: DataLoader) -> float:
    """The fraction of samples whose largest logit is the true class (model in eval mode)."""
    model.eval()
    correct = total = 0
    with no_grad():
        for xb, yb in loader:
            correct += int((model(xb)._data.argmax(axis=1) == yb._data).sum())
            total += len(yb)
    return correct / total


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError as e:
        raise ImportError(
            'train: the progress bar needs tqdm; install it with pip install "tinygrad_edu[train]" '
            "(or pass --no-progress)"
        ) from e
    return tqdm(total=total, unit="batch", leave=False, mininterval=0.25, file=sys.stderr)


def fit(args: argparse.Namespace) -> dict:
    """Train as ``args`` say; returns the model and its accuracies (the CLI prints them)."""
    manual_seed(args.seed)
    X, y = datasets.load_digits(as_image=(args.model == "cnn"))
    train_set, val_set, test_set = train_val_test_split(TensorDataset(X, y), val=0.15, test=0.15)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=512)
    test_loader = DataLoader(test_set, batch_size=512)

    model = build_model(args.model)
    if args.model == "mlp":
        model[1].fit(X[train_set.indices])
    optimizer = Adam(model.parameters(), lr=args.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"{args.model}: {n_params:,} parameters; digits split {len(train_set)} train / "
        f"{len(val_set)} validation / {len(test_set)} test; seed {args.seed}"
    )

    bar = _progress_bar(args.epochs * len(train_loader), args.progress)
    write = bar.write if bar is not None else print
    best = (-1.0, 0, None)  # (validation accuracy, epoch, weights)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        running = 0.0
        if bar is not None:
            bar.set_description(f"epoch {epoch}/{args.epochs}")
        for i, (xb, yb) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb, label_smoothing=args.label_smoothing)
            loss.backward()
            optimizer.step()
            running += (loss.item() - running) / min(i, 20)  # mean of about the last 20
            if bar is not None:
                bar.set_postfix(loss=f"{running:.4f}", refresh=False)
                bar.update()
        scheduler.step()
        val_acc = accuracy(model, val_loader)
        write(
            f"epoch {epoch:>3}/{args.epochs}  loss {running:.4f}  validation accuracy {val_acc:.4f}"
        )
        if val_acc >= best[0]:  # on a tie prefer the later, better-fitted epoch
            state = {k: v._data.copy() for k, v in model.state_dict().items()}
            best = (val_acc, epoch, state)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start

    val_acc, best_epoch, state = best
    model.load_state_dict(state)
    test_acc = accuracy(model, test_loader)
    print(
        f"trained in {seconds:.1f} s; best validation accuracy {val_acc:.4f} at epoch "
        f"{best_epoch} (weights restored from it)"
    )
    if args.save:
        nn.save(model, args.save)
        print(f"saved weights to {args.save}")
    return {"model": model, "val_accuracy": val_acc, "test_accuracy": test_acc, "epoch": best_epoch}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu train",
        description="Train a model on scikit-learn's bundled 8x8 handwritten digits "
        "(70% train / 15% validation / 15% test) and report its test accuracy.",
    )
    parser.add_argument("--model", choices=sorted(DEFAULTS), default="mlp", help="default: mlp")
    parser.add_argument("--epochs", type=int, help="mlp: 30, cnn: 12")
    parser.add_argument(
        "--lr", type=float, help="Adam's learning rate (cosine-annealed); mlp: 2e-3, cnn: 3e-3"
    )
    parser.add_argument("--batch-size", type=int, help="default: 32")
    parser.add_argument(
        "--label-smoothing",
        type=float,
        default=0.1,
        help="cross-entropy against targets of (1 - s) on the true class plus s spread evenly over "
        "the 10 classes (PyTorch's label_smoothing; default 0.1, so the loss levels off near 0.5)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the split, init, shuffling (default: 0)"
    )
    parser.add_argument("--save", metavar="PATH", help="write the trained weights to PATH (.npz)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm bar")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0:
        parser.error(
            f"--epochs and --batch-size must be >= 1 and --lr > 0, got epochs={args.epochs}, "
            f"batch-size={args.batch_size}, lr={args.lr}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    result = fit(parse_args(argv))
    print(f"test accuracy: {result['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
