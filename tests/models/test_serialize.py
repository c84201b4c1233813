"""The bundle format: plain files that load identically in a fresh process, and refusals that say why."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pytest
from records import VARIED_RECORDS

from models import serialize
from models.bundle import SalaryModel
from models.quantile import QuantileModel

LOAD_AND_PREDICT = """
import json, sys
from pathlib import Path
import numpy as np
from models.bundle import SalaryModel
records = json.loads(Path(sys.argv[1]).read_text())
out = {}
for folder in map(Path, sys.argv[3:]):
    model = SalaryModel.load(folder)
    out[folder.name + "-batch"] = model.predict(records)
    out[folder.name + "-rows"] = np.vstack([model.predict([r]) for r in records])
np.savez(sys.argv[2], **out)
"""


@pytest.fixture(scope="module")
def saved(
    demo_bundle: SalaryModel,
    baseline_bundles: dict[str, SalaryModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[SalaryModel, Path]]:
    """The LightGBM bundle and every baseline kind, each saved once in its own folder."""
    root = tmp_path_factory.mktemp("saved")
    bundles = {"lightgbm": demo_bundle, **baseline_bundles}
    return {kind: (bundle, bundle.save(root / kind)) for kind, bundle in bundles.items()}


@pytest.fixture()
def bundle_copy(saved: dict[str, tuple[SalaryModel, Path]], tmp_path: Path) -> Path:
    """A copy of the saved LightGBM bundle that a test may damage."""
    return Path(shutil.copytree(saved["lightgbm"][1], tmp_path / "bundle"))


def test_every_kind_predicts_identically_in_a_fresh_process(
    saved: dict[str, tuple[SalaryModel, Path]], tmp_path: Path
) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps(VARIED_RECORDS))
    out = tmp_path / "predictions.npz"
    folders = [str(folder) for _, folder in saved.values()]
    subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(records), str(out), *folders],
        check=True,
        timeout=300,
    )
    fresh = np.load(out, allow_pickle=False)
    for kind, (bundle, _) in saved.items():
        assert np.array_equal(fresh[f"{kind}-batch"], bundle.predict(VARIED_RECORDS)), kind
        one_by_one = np.vstack([bundle.predict([r]) for r in VARIED_RECORDS])  # the one-row (API) path
        assert np.array_equal(fresh[f"{kind}-rows"], one_by_one), kind


def test_a_loaded_bundle_saves_to_the_same_bytes(
    saved: dict[str, tuple[SalaryModel, Path]], tmp_path: Path
) -> None:
    for kind, (_, folder) in saved.items():
        again = SalaryModel.load(folder).save(tmp_path / kind)
        assert (again / serialize.MANIFEST).read_bytes() == (folder / serialize.MANIFEST).read_bytes(), kind


def test_a_loaded_bundle_explains_and_counts_evidence_as_before(
    demo_bundle: SalaryModel, saved: dict[str, tuple[SalaryModel, Path]]
) -> None:
    loaded = SalaryModel.load(saved["lightgbm"][1])
    record = VARIED_RECORDS[0]
    assert loaded.estimate(record) == demo_bundle.estimate(record)
    assert loaded.metadata == demo_bundle.metadata


def test_the_bundle_is_json_and_lightgbm_model_text(saved: dict[str, tuple[SalaryModel, Path]]) -> None:
    bundle, folder = saved["lightgbm"]
    model = bundle.model
    assert isinstance(model, QuantileModel)
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert names == sorted(
        [serialize.MANIFEST, "features.json", "model.json", "metadata.json", "lightgbm/center.txt"]
        + [f"lightgbm/boosters-{q}.txt" for q in (0.1, 0.25, 0.5, 0.75, 0.9)]
        + [f"lightgbm/centers-{j}.txt" for j in range(len(model.centers_))]
        + [f"lightgbm/center-medians-{j}.txt" for j, m in enumerate(model.center_medians_) if m is not None]
    )
    manifest = json.loads((folder / serialize.MANIFEST).read_text())
    assert (manifest["format"], manifest["format_version"]) == ("salary-bundle", 2)
    assert manifest["taxonomy_version"].startswith("sha256:")
    assert (folder / "lightgbm/center.txt").read_text().startswith("tree\nversion=")


def _rewrite(folder: Path, name: str, data: bytes, fix_checksum: bool) -> None:
    (folder / name).write_bytes(data)
    if fix_checksum:
        manifest = json.loads((folder / serialize.MANIFEST).read_text())
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        (folder / serialize.MANIFEST).write_text(json.dumps(manifest))


def _edit_manifest(folder: Path, edit: Callable[[dict[str, object]], None]) -> None:
    manifest = json.loads((folder / serialize.MANIFEST).read_text())
    edit(manifest)
    (folder / serialize.MANIFEST).write_text(json.dumps(manifest))


def _truncate(folder: Path, name: str, fix_checksum: bool) -> None:
    data = (folder / name).read_bytes()
    _rewrite(folder, name, data[: len(data) // 2], fix_checksum)


def _tamper(folder: Path, name: str) -> None:
    data = (folder / name).read_bytes()
    _rewrite(folder, name, data.replace(b'"num_boost_round": 120', b'"num_boost_round": 999'), False)


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "edited json": (lambda f: _tamper(f, "model.json"), r"model\.json does not match its checksum"),
    "truncated booster": (
        lambda f: _truncate(f, "lightgbm/center.txt", False),
        r"center\.txt does not match its checksum",
    ),
    "truncated booster, checksum redone": (
        lambda f: _truncate(f, "lightgbm/center.txt", True),
        r"center\.txt is not a complete LightGBM model",
    ),
    "truncated json, checksum redone": (
        lambda f: _truncate(f, "features.json", True),
        r"features\.json cannot be read as JSON",
    ),
    "missing booster": (
        lambda f: (f / "lightgbm/boosters-0.9.txt").unlink(),
        r"incomplete: lightgbm/boosters-0\.9\.txt is missing",
    ),
    "truncated manifest": (
        lambda f: _truncate(f, serialize.MANIFEST, False),
        r"manifest\.json cannot be read as JSON",
    ),
    "newer format": (
        lambda f: _edit_manifest(f, lambda m: m.update(format_version=3)),
        r"format version 3, newer than this release reads \(2\); upgrade",
    ),
    "not our format": (
        lambda f: _edit_manifest(f, lambda m: m.update(format="something-else")),
        r"is not a salary-bundle manifest",
    ),
    "file outside the bundle": (
        lambda f: _edit_manifest(f, lambda m: m["files"].update({"../x": {}})),  # type: ignore[index]
        r"lists a file outside the bundle: '\.\./x'",
    ),
    "unknown class": (
        lambda f: _rewrite(
            f, "model.json", (f / "model.json").read_bytes().replace(b"QuantileModel", b"os.system"), True
        ),
        r"class 'os\.system' is not one this release can load",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_bundle_is_refused_with_the_reason(bundle_copy: Path, damage: str) -> None:
    spoil, message = DAMAGE[damage]
    spoil(bundle_copy)
    with pytest.raises(ValueError, match=message):
        SalaryModel.load(bundle_copy)


def test_a_folder_without_a_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no salary model bundle \(manifest\.json\)"):
        SalaryModel.load(tmp_path)


def test_a_pickle_from_an_earlier_release_is_refused_naming_the_migration(
    demo_bundle: SalaryModel, tmp_path: Path
) -> None:
    joblib.dump(demo_bundle, tmp_path / "bundle.joblib")
    with pytest.raises(serialize.LegacyBundle, match=r"`salary migrate-model models:/m/3`"):
        SalaryModel.load(tmp_path, source="models:/m/3")


def test_another_taxonomy_is_a_warning_not_a_refusal(
    bundle_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _edit_manifest(bundle_copy, lambda m: m.update(taxonomy_version="sha256:older"))
    with caplog.at_level(logging.WARNING, logger="models.serialize"):
        loaded = SalaryModel.load(bundle_copy)
    assert loaded.predict([{}]).shape == (1, 5)
    assert "saved with taxonomy sha256:older" in caplog.text


def _with_model_attribute(bundle: SalaryModel, name: str, value: object) -> SalaryModel:
    model = copy.copy(bundle.model)
    setattr(model, name, value)
    return SalaryModel(bundle.features, model, bundle.metadata)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("lookup_", object(), r"model\.lookup_: a builtins\.object cannot be saved"),
        ("frame_", {"by_role": {1: lambda x: x}}, r"model\.frame_\['by_role'\]\[1\]: a builtins\.function"),
        ("_table", {"a": 1}, r"attributes '_table' of QuantileModel are neither"),
        ("threshold", 3, r"attributes 'threshold' of QuantileModel are neither"),
    ],
)
def test_state_the_format_cannot_write_stops_the_save_by_name(
    demo_bundle: SalaryModel, tmp_path: Path, name: str, value: object, message: str
) -> None:
    with pytest.raises(serialize.UnsupportedState, match=message):
        _with_model_attribute(demo_bundle, name, value).save(tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()  # nothing half-written


def test_a_new_fitted_attribute_is_saved_without_teaching_the_format(
    demo_bundle: SalaryModel, tmp_path: Path
) -> None:
    value = {(1.0, -1.0): np.array([[0.5, np.nan]], dtype=np.float32), "n": (np.int64(3), float("inf"))}
    bundle = _with_model_attribute(demo_bundle, "extra_table_", value)
    loaded = SalaryModel.load(bundle.save(tmp_path)).model.extra_table_  # type: ignore[union-attr]
    assert list(loaded) == [(1.0, -1.0), "n"]
    np.testing.assert_array_equal(loaded[(1.0, -1.0)], value[(1.0, -1.0)])  # type: ignore[index]
    assert loaded[(1.0, -1.0)].dtype == np.float32
    assert loaded["n"] == (3, float("inf")) and type(loaded["n"][0]) is np.int64
