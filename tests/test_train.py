"""``python -m tinygrad_edu train``: the accuracy floors on the fixed default seed (with fewer
epochs than the defaults where the floor still holds), the output contract, --save, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import __main__ as cli
from tinygrad_edu import datasets, nn, train
from tinygrad_edu.utils.data import DataLoader, TensorDataset, train_val_test_split

LAST_LINE = re.compile(r"^test accuracy: (0\.\d{4}|1\.0000)$")


def _run(capsys, argv):
    assert cli.main(["train", *argv]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, f"last line is not 'test accuracy: 0.xxxx': {lines[-1]!r}"
    return float(match.group(1)), lines, err


def test_mlp_reaches_97_percent_and_saves_its_weights(capsys, tmp_path):
    path = tmp_path / "mlp.npz"
    # the bare command's defaults (30 epochs take a few seconds), with --save
    acc, lines, err = _run(capsys, ["--save", str(path)])
    assert acc >= 0.97
    epochs = [line for line in lines if "validation accuracy" in line and line.startswith("epoch")]
    assert len(epochs) == 30
    assert "loss=" in err  # the tqdm bar with the running loss (on stderr)
    assert f"saved weights to {path}" in lines[-2]

    # the file holds the trained weights: a fresh model loading them scores the same
    model = train.build_model("mlp")
    model.load_state_dict(nn.load(path))
    X, y = datasets.load_digits()
    tg.manual_seed(0)
    _, _, test = train_val_test_split(TensorDataset(X, y), 0.15, 0.15)
    assert train.accuracy(model, DataLoader(test, 512)) == pytest.approx(acc, abs=1e-4)


def test_cnn_reaches_98_percent(capsys):
    acc, lines, _ = _run(capsys, ["--model", "cnn", "--epochs", "6", "--no-progress"])
    assert acc >= 0.98
    assert lines[0].startswith("cnn: ")


def test_cnn_has_two_convolutions_and_pooling():
    model = train.build_model("cnn")
    kinds = [type(m).__name__ for m in model.modules()]
    assert kinds.count("Conv2d") == 2 and kinds.count("MaxPool2d") == 2
    out = model(tg.zeros(3, 1, 8, 8))
    assert out.shape == (3, 10)
    out.sum().backward()


def test_bad_arguments_are_rejected(capsys):
    with pytest.raises(SystemExit) as e:
        train.main(["--model", "resnet"])
    assert e.value.code == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.main(["--epochs", "0"])
    assert "--epochs and --batch-size must be >= 1" in capsys.readouterr().err


def test_defaults_are_the_documented_demo():
    args = train.parse_args([])
    assert (args.model, args.seed, args.save, args.progress) == ("mlp", 0, None, True)
    assert (args.epochs, args.lr, args.batch_size) == (30, 2e-3, 32)
    cnn = train.parse_args(["--model", "cnn", "--lr", "0.01"])
    assert (cnn.epochs, cnn.lr) == (train.DEFAULTS["cnn"]["epochs"], 0.01)
    assert np.isclose(cnn.lr, 0.01)
