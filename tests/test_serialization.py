"""``tg.save`` / ``tg.load``: state_dicts round-trip through .npz; files that ``torch.save``
wrote are recognised (from hand-made fixtures with the same layout, no PyTorch needed) and
the error says how to convert them."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

CONVERSION = "{k: v.numpy() for k, v in sd.items()}"
# protocol-2 pickle of an empty dict: the smallest stand-in for torch.save's data.pkl
EMPTY_PICKLE = b"\x80\x02}q\x00."


def _torch_zip(target) -> None:
    """The layout torch.save writes: <stem>/data.pkl, <stem>/data/<n>, <stem>/version."""
    with zipfile.ZipFile(target, "w") as z:
        z.writestr("model/data.pkl", EMPTY_PICKLE)
        z.writestr("model/data/0", np.zeros(2, np.float32).tobytes())
        z.writestr("model/version", b"3\n")


def test_a_torch_save_zip_is_recognised_and_the_conversion_shown(tmp_path) -> None:
    path = tmp_path / "model.pt"
    _torch_zip(path)
    with pytest.raises(RuntimeError, match="written by torch.save") as e:
        tg.load(path)
    assert CONVERSION in str(e.value) and "model.npz" in str(e.value)
    buf = io.BytesIO()
    _torch_zip(buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="written by torch.save"):
        nn.load(buf, map_location="cpu", weights_only=True)


def test_a_legacy_torch_pickle_is_recognised(tmp_path) -> None:
    path = tmp_path / "old.pth"
    path.write_bytes(EMPTY_PICKLE)
    with pytest.raises(RuntimeError, match="is a pickle.*torch.save") as e:
        tg.load(path)
    assert CONVERSION in str(e.value) and "old.npz" in str(e.value)


def test_another_zip_is_refused_without_junk_keys(tmp_path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.npy", b"")
        z.writestr("notes.txt", b"hello")
    with pytest.raises(RuntimeError, match=r"not one that save wrote.*notes\.txt"):
        tg.load(path)


@pytest.mark.parametrize("target", ["path", "file"])
def test_state_dicts_round_trip_with_names_order_dtypes_and_values(tmp_path, target) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2, dtype=tg.float64))
    sd = model.state_dict()
    f = tmp_path / "m.npz" if target == "path" else io.BytesIO()
    tg.save(sd, f)
    if target == "file":
        f.seek(0)
    loaded = tg.load(f, map_location="cpu")
    assert list(loaded) == list(sd)
    for k, v in sd.items():
        assert loaded[k].dtype == v.dtype
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2, dtype=tg.float64))
    assert other.load_state_dict(loaded) == ([], [])
    w, w_other = model[0].weight.detach().numpy(), other[0].weight.detach().numpy()
    np.testing.assert_array_equal(w_other, w)


def test_a_module_saves_as_its_state_dict(tmp_path) -> None:
    m = nn.Linear(2, 3)
    tg.save(m, tmp_path / "m.npz")
    assert list(tg.load(tmp_path / "m.npz")) == ["weight", "bias"]
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m.npz.npz").exists()


def test_saving_values_that_are_not_tensors_names_them(tmp_path) -> None:
    checkpoint = {"model": nn.Linear(2, 2).state_dict(), "epoch": 3}
    with pytest.raises(TypeError, match="'model' is a OrderedDict"):
        tg.save(checkpoint, tmp_path / "c.npz")
    with pytest.raises(TypeError, match="save: saves a state_dict"):
        tg.save([1, 2], tmp_path / "c.npz")
