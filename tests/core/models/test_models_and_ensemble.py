"""Model-set discovery, validation of the I/O contract, and combining the models' logits."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from model_factory import LABELS, contract_model, write_model_set

from bsgbat_gui.core.model_card import MODEL_FILENAMES
from bsgbat_gui.core.models import locate as models_module
from bsgbat_gui.core.models.ensemble import Ensemble, combine_logits, sigmoid
from bsgbat_gui.core.models.locate import ModelSetError, locate_model_set, read_model_set


def test_locate_order_explicit_then_env_then_user_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = write_model_set(tmp_path / "explicit", n_models=1)
    env = write_model_set(tmp_path / "env", n_models=1)
    user = write_model_set(tmp_path / "user", n_models=1)
    monkeypatch.setattr(models_module, "source_checkout_models_dir", lambda: None)
    monkeypatch.setattr(models_module, "user_models_dir", lambda: user)
    monkeypatch.setenv("BSGBAT_MODELS", str(env))
    assert locate_model_set(explicit).folder == explicit
    assert locate_model_set().folder == env
    monkeypatch.delenv("BSGBAT_MODELS")
    assert locate_model_set().origin == "user data folder"


def test_explicit_folder_that_is_not_a_model_set_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelSetError, match="no model files"):
        locate_model_set(tmp_path)


def test_nothing_found_names_every_place_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models_module, "source_checkout_models_dir", lambda: None)
    monkeypatch.setattr(models_module, "user_models_dir", lambda: tmp_path / "none")
    with pytest.raises(ModelSetError, match=r"no BSG-BAT model set found.*user data folder"):
        locate_model_set()


@pytest.mark.parametrize("n_models", [1, 3, 6])
def test_sets_of_one_to_six_models_work(tmp_path: Path, n_models: int) -> None:
    ensemble = Ensemble(read_model_set(write_model_set(tmp_path / "m", n_models=n_models)))
    logits = ensemble.run(np.zeros((2, 1, 512, 128), np.float32))
    assert logits.shape == (n_models, 2, 22)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_name": "x"}, "one input named 'spectrogram'"),
        ({"input_shape": ("batch", 1, 256, 128)}, r"input shape .*expected \[batch, 1, 512, 128\]"),
        ({"output_name": "scores"}, "no output named 'logits'"),
        ({"n_outputs": 21}, "21 outputs but the labels file lists 22 labels"),
    ],
)
def test_contract_violations_name_the_file_and_the_mismatch(
    tmp_path: Path, kwargs: dict, message: str
) -> None:
    folder = write_model_set(tmp_path / "m", n_models=2)
    onnx.save(contract_model(**kwargs), str(folder / MODEL_FILENAMES[1]))
    with pytest.raises(ModelSetError, match=message) as excinfo:
        Ensemble(read_model_set(folder))
    assert MODEL_FILENAMES[1] in str(excinfo.value)


def test_corrupt_model_file(tmp_path: Path) -> None:
    folder = write_model_set(tmp_path / "m", n_models=1)
    (folder / MODEL_FILENAMES[0]).write_bytes(b"<html>404</html>")
    with pytest.raises(ModelSetError, match=f"{MODEL_FILENAMES[0]}: not a loadable ONNX model"):
        Ensemble(read_model_set(folder))


def test_labels_file_missing(tmp_path: Path, model_set_dir: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(model_set_dir, folder)
    (folder / "bsgbat_labels.txt").unlink()
    with pytest.raises(ModelSetError, match="labels file missing"):
        read_model_set(folder)


def test_unknown_provider_is_a_clear_error(model_set_dir: Path) -> None:
    with pytest.raises(ModelSetError, match="not available here"):
        Ensemble(read_model_set(model_set_dir), provider="NoSuchExecutionProvider")


def test_combine_methods_over_models() -> None:
    logits = np.array([[[1.0, -2.0]], [[3.0, 0.0]], [[-1.0, 5.0]]], np.float32)  # [3 models, 1, 2]
    assert combine_logits(logits, "mean").tolist() == [[1.0, 1.0]]
    assert combine_logits(logits, "median").tolist() == [[1.0, 0.0]]
    assert combine_logits(logits, "min").tolist() == [[-1.0, -2.0]]
    assert combine_logits(logits, "max").tolist() == [[3.0, 5.0]]
    assert sigmoid(np.array([0.0, -1000.0, 1000.0], np.float32)).tolist() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize("n_models", range(1, 11))
def test_median_equals_numpy_bit_for_bit(n_models: int) -> None:
    rng = np.random.default_rng(n_models)
    for scale in (0.1, 5.0, 1e4):
        logits = (rng.normal(size=(n_models, 300, 22)) * scale).astype(np.float32)
        logits[:, :10] = np.round(logits[:, :10])  # ties
        combined = combine_logits(logits, "median")
        assert combined.dtype == np.float32
        assert np.array_equal(combined, np.median(logits, axis=0))


def test_sigmoid_matches_scipy_expit() -> None:
    from scipy.special import expit

    x = np.linspace(-120, 120, 100_001, dtype=np.float32)
    assert np.max(np.abs(sigmoid(x) - expit(x))) <= 2e-7


def test_ensemble_keeps_labels_in_model_order(model_set_dir: Path) -> None:
    assert Ensemble(read_model_set(model_set_dir)).labels == tuple(LABELS)


def test_the_source_checkout_models_folder_is_found() -> None:
    """Run from a checkout (editable install, or the tests), ``models/`` of that checkout."""
    checkout = Path(__file__).resolve().parents[3]
    assert (checkout / "pyproject.toml").is_file()
    assert models_module.source_checkout_models_dir() == checkout / "models"


def test_the_clone_an_install_came_from_is_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_set_dir: Path
) -> None:
    """After `pip install .` (not editable) the code lives in site-packages: the models/ of the
    clone it was installed from is still searched, found through pip's direct_url.json."""
    import importlib.metadata
    import shutil

    import bsgbat_gui
    from bsgbat_gui.core.models import locate as models

    clone = tmp_path / "my clone"
    (clone / "models").mkdir(parents=True)
    (clone / "pyproject.toml").write_text("[project]\nname = 'bsgbat-gui'\n")
    for f in model_set_dir.iterdir():
        shutil.copy(f, clone / "models" / f.name)

    class Installed:
        def read_text(self, name: str) -> str | None:
            assert name == "direct_url.json"
            return '{"url": "file://' + str(clone).replace(" ", "%20") + '", "dir_info": {}}'

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Installed())
    monkeypatch.setattr(bsgbat_gui, "__file__", str(tmp_path / "site-packages/bsgbat_gui/i.py"))
    assert models.source_checkout_models_dir() == clone / "models"
    found = models.locate_model_set(None)
    assert found.folder == clone / "models"
    assert found.origin == "source checkout"
