"""The bundle on disk as plain files: JSON for fitted state, LightGBM model text for boosters, no pickle.

A folder holds `manifest.json` (format name and version, taxonomy version, sha256 of every other file),
`features.json` (the fitted JobFeatures), `model.json` (the quantile model or baseline),
`metadata.json` and `lightgbm/*.txt`. Objects are written generically: the constructor's parameters
plus every fitted attribute (public, ending in `_`), each value through an explicit encoder. An
attribute the format cannot write stops the save with its name, so new fitted state is never lost
silently. Loading never runs code from the files: classes come from a fixed table, values from JSON.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path, PurePosixPath
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder

from features import taxonomy
from features.pipeline import JobFeatures
from models.baselines import BASELINES
from models.quantile import ROW_PREDICTORS, QuantileModel

logger = logging.getLogger(__name__)

FORMAT = "salary-bundle"
# 2: a QuantileModel may hold per-profile centers (centers_, center_medians_, center_routes_), which a
# reader of version 1 would silently ignore; a version-1 bundle loads with none (QuantileModel.__setstate__).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
FEATURES_FILE = "features.json"
MODEL_FILE = "model.json"
METADATA_FILE = "metadata.json"
DOCUMENTS = (FEATURES_FILE, MODEL_FILE, METADATA_FILE)
BOOSTER_DIR = "lightgbm"
LEGACY_FILE = "bundle.joblib"  # what releases before format 1 wrote: a pickle
MIGRATE_COMMAND = "salary migrate-model"
# The only classes a bundle may name; a file never chooses what code is imported.
CLASSES: dict[str, type] = {cls.__name__: cls for cls in (JobFeatures, QuantileModel, *BASELINES.values())}
# Private attributes each class rebuilds by itself (caches, locks, indexes), hence not state to save.
DERIVED: dict[type, frozenset[str]] = {
    JobFeatures: frozenset({"_skill_col", "_token_col", "_unstated_cols", "_ranks"}),  # rebuilt on load
    QuantileModel: frozenset({"_lock", *ROW_PREDICTORS}),  # built on first use
}
_FITTED = re.compile(r"^[A-Za-z]\w*_$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9.-]+")
_ARRAY_KINDS = "biufU"  # bool, int, uint, float, str: what JSON holds exactly


class UnsupportedState(ValueError):
    """A fitted attribute or value that the bundle format cannot write."""


class LegacyBundle(ValueError):
    """A pickle written by an earlier release, which this release does not load."""


def legacy_message(where: str, source: str | None) -> str:
    """What a refusal of an old pickle says: why, and the command that converts it once."""
    command = (
        f"`{MIGRATE_COMMAND} {source}`"
        if source
        else f"`{MIGRATE_COMMAND} MODEL_URI` with the models:/ URI it is registered under, "
        f"or `{MIGRATE_COMMAND} {where} --out NEW_FOLDER`"
    )
    return (
        f"{where} holds a model saved by an earlier release as a pickle ({LEGACY_FILE}). This release "
        "does not load pickles: loading one runs whatever code it contains. If you trust where it "
        f"came from, convert it once: {command} (docs/model.md, 'Bundle format')."
    )


@dataclass
class _Writer:
    """Collects the files of one bundle while values are encoded."""

    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, stem: str, suffix: str, data: bytes) -> str:
        """Store `data` under a readable unique name and return the name."""
        base = _SAFE_NAME.sub("-", stem).strip("-.") or "file"
        name, n = f"{BOOSTER_DIR}/{base}{suffix}", 1
        while name in self.files:
            n += 1
            name = f"{BOOSTER_DIR}/{base}-{n}{suffix}"
        self.files[name] = data
        return name


@dataclass
class _Reader:
    """The verified bytes of one bundle's files, read by name while values are decoded."""

    folder: Path
    verified: dict[str, bytes]

    def data(self, name: str) -> bytes:
        """A listed file's bytes as checked against the manifest; anything unlisted is refused."""
        if name not in self.verified:
            raise ValueError(f"bundle {self.folder} refers to {name}, which its manifest does not list")
        return self.verified[name]

    def text(self, name: str) -> str:
        """A listed file's text."""
        try:
            return self.data(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"bundle file {self.folder / name} is not UTF-8 text: {exc}") from exc


def _encode(value: Any, where: str, out: _Writer) -> Any:
    """A JSON value for `value`; types JSON lacks become one-key objects tagged with `$`.

    Types are matched exactly, not by subclass: a Counter or a namedtuple would come back as a plain
    dict or tuple, so they are refused rather than changed.
    """
    if value is None or type(value) in (bool, str, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic):
        return {"$scalar": {"dtype": value.dtype.str, "value": _encode(value.item(), where, out)}}
    if type(value) is np.ndarray:
        if value.dtype.kind not in _ARRAY_KINDS:
            raise UnsupportedState(f"{where}: arrays of dtype {value.dtype} cannot be saved")
        data = _encode(value.tolist(), where, out)
        return {"$ndarray": {"dtype": value.dtype.str, "shape": list(value.shape), "data": data}}
    if type(value) is list:
        return [_encode(v, f"{where}[{i}]", out) for i, v in enumerate(value)]
    if type(value) is tuple:
        return {"$tuple": [_encode(v, f"{where}[{i}]", out) for i, v in enumerate(value)]}
    if type(value) is dict:
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v, f"{where}[{k!r}]", out) for k, v in value.items()}
        return {
            "$dict": [
                [_encode(k, f"{where} key", out), _encode(v, f"{where}[{k!r}]", out)]
                for k, v in value.items()
            ]
        }
    if type(value) is lgb.Booster:
        text = value.model_to_string().encode("utf-8")
        name = out.add(where.replace("model.", "", 1), ".txt", text)
        return {"$booster": {"file": name, "trees": value.num_trees()}}
    if type(value) is OneHotEncoder:
        return {"$one_hot": _one_hot_state(value, where, out)}
    if type(value) is Ridge:
        return {"$ridge": _object_state(value, where, out)}
    if type(value).__name__ in CLASSES and CLASSES[type(value).__name__] is type(value):
        return {"$object": _object_state(value, where, out)}
    raise UnsupportedState(
        f"{where}: a {type(value).__module__}.{type(value).__qualname__} cannot be saved in a bundle; "
        "teach models/serialize.py to write it (and bump FORMAT_VERSION if old readers cannot read it)"
    )


def _params(obj: Any, where: str) -> dict[str, Any]:
    """Constructor arguments, read back from the attributes of the same name (scikit-learn's rule)."""
    out = {}
    for name, param in inspect.signature(type(obj).__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name not in vars(obj):
            raise UnsupportedState(f"{where}: constructor argument {name!r} is not stored as an attribute")
        out[name] = vars(obj)[name]
    return out


def _object_state(obj: Any, where: str, out: _Writer) -> dict[str, Any]:
    """Class name, constructor parameters and fitted attributes; anything else stops the save by name."""
    cls = type(obj)
    params = _params(obj, where)
    derived = DERIVED.get(cls, frozenset())
    unknown = [k for k in vars(obj) if k not in params and k not in derived and not _FITTED.match(k)]
    if unknown:
        raise UnsupportedState(
            f"{where}: attributes {', '.join(map(repr, unknown))} of {cls.__name__} are neither constructor "
            "arguments nor fitted attributes (name_); save them as fitted attributes, or list them "
            "in DERIVED in models/serialize.py if the class rebuilds them itself"
        )
    fitted = {k: v for k, v in vars(obj).items() if _FITTED.match(k)}
    return {
        "class": cls.__name__,
        "params": _encode(params, f"{where}.params", out),
        "fitted": {k: _encode(v, f"{where}.{k}", out) for k, v in fitted.items()},
    }


def _one_hot_state(encoder: OneHotEncoder, where: str, out: _Writer) -> dict[str, Any]:
    """An encoder's options and categories, rebuilt through its public constructor and fit."""
    params = encoder.get_params(deep=False)
    simple = all(params[k] is None for k in ("drop", "min_frequency", "max_categories"))
    if (
        not simple
        or not isinstance(params["feature_name_combiner"], str)
        or hasattr(encoder, "feature_names_in_")
    ):
        raise UnsupportedState(
            f"{where}: only OneHotEncoders without drop, infrequent grouping or names can be saved"
        )
    params.pop("categories")
    dtype = np.dtype(params.pop("dtype")).str
    return {
        "params": _encode(params, where, out),
        "dtype": dtype,
        "categories": _encode(list(encoder.categories_), f"{where}.categories_", out),
    }


def _decode(value: Any, where: str, files: _Reader) -> Any:
    """The inverse of `_encode`."""
    if isinstance(value, list):
        return [_decode(v, where, files) for v in value]
    if not isinstance(value, dict):
        return value
    tag = next(iter(value), "") if len(value) == 1 else ""
    if not tag.startswith("$"):
        return {k: _decode(v, f"{where}[{k!r}]", files) for k, v in value.items()}
    body = value[tag]
    if tag == "$float":
        return float(body)
    if tag in ("$scalar", "$ndarray"):
        dtype = np.dtype(body["dtype"])
        if dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"{where}: numpy values of dtype {dtype} are not part of the format")
    if tag == "$scalar":
        return dtype.type(_decode(body["value"], where, files))
    if tag == "$ndarray":
        return np.array(_decode(body["data"], where, files), dtype=dtype).reshape(body["shape"])
    if tag == "$tuple":
        return tuple(_decode(body, where, files))
    if tag == "$dict":
        return {_key(_decode(k, where, files)): _decode(v, where, files) for k, v in body}
    if tag == "$booster":
        return _booster(files, body["file"], int(body["trees"]))
    if tag == "$one_hot":
        categories = [np.asarray(c) for c in _decode(body["categories"], where, files)]
        params = _decode(body["params"], where, files)
        encoder = OneHotEncoder(**params, categories=categories, dtype=np.dtype(body["dtype"]).type)
        return encoder.fit(np.array([[c[0] for c in categories]]))
    if tag == "$ridge":
        ridge = Ridge(**_decode(body["params"], where, files))
        for name, fitted in body["fitted"].items():
            setattr(ridge, _fitted_name(name, where), _decode(fitted, where, files))
        return ridge
    if tag == "$object":
        return _build(body, where, files)
    raise ValueError(f"{where}: unknown value tag {tag!r}; the bundle was written by a newer release?")


def _key(value: Any) -> Any:
    """A decoded dict key; lists (from JSON) become tuples so they hash."""
    return tuple(_key(v) for v in value) if isinstance(value, list | tuple) else value


def _fitted_name(name: str, where: str) -> str:
    if not _FITTED.match(name):
        raise ValueError(f"{where}: {name!r} is not a fitted attribute name")
    return name


def _build(state: dict[str, Any], where: str, files: _Reader) -> Any:
    """An object from the fixed class table: its constructor, then its fitted attributes."""
    cls = CLASSES.get(state["class"])
    if cls is None:
        raise ValueError(f"{where}: class {state['class']!r} is not one this release can load")
    params = _decode(state["params"], f"{where}.params", files)
    try:
        obj = cls(**params)
    except TypeError as exc:
        raise ValueError(f"{where}: {cls.__name__} no longer takes these parameters: {exc}") from exc
    fitted = {_fitted_name(k, where): _decode(v, f"{where}.{k}", files) for k, v in state["fitted"].items()}
    restore: Callable[[dict[str, Any]], None] | None = getattr(obj, "__setstate__", None)
    if restore is not None:  # the class's own restore hook rebuilds its indexes, as when unpickling
        restore({**vars(obj), **fitted})
    else:
        vars(obj).update(fitted)
    return obj


def _booster(files: _Reader, name: str, trees: int) -> lgb.Booster:
    """A booster from its model text, checked first: LightGBM aborts the process on a truncated text."""
    problem = _model_text_problem(files.data(name), trees)
    if problem:
        raise ValueError(f"bundle file {files.folder / name} is not a complete LightGBM model: {problem}")
    try:
        booster = lgb.Booster(model_str=files.text(name))
    except lgb.basic.LightGBMError as exc:
        raise ValueError(f"bundle file {files.folder / name}: LightGBM cannot read it: {exc}") from exc
    if booster.num_trees() != trees:
        raise ValueError(
            f"bundle file {files.folder / name} has {booster.num_trees()} trees, expected {trees}"
        )
    return booster


def _model_text_problem(data: bytes, trees: int) -> str:
    """Why LightGBM could not parse this model text safely, or '' when its layout is whole.

    LightGBM finds each tree at the offsets its `tree_sizes` header line gives and stops the whole
    process (not with an exception) when a tree is not there, so those offsets are checked here.
    """
    header_end = data.find(b"\n\n")
    header = data[: max(header_end, 0)]
    sizes_line = next((line for line in header.splitlines() if line.startswith(b"tree_sizes=")), None)
    if not data.startswith(b"tree\n") or header_end < 0 or sizes_line is None:
        return "the header is missing"
    try:
        sizes = [int(s) for s in sizes_line.removeprefix(b"tree_sizes=").split()]
    except ValueError:
        return "tree_sizes is not a list of numbers"
    if len(sizes) != trees:
        return f"tree_sizes lists {len(sizes)} trees, expected {trees}"
    offset = header_end + 2
    for i, size in enumerate(sizes):
        if not data.startswith(f"Tree={i}\n".encode(), offset):
            return f"tree {i} is not where tree_sizes puts it"
        offset += size
    tail = data[offset:]
    if not tail.startswith(b"end of trees") or b"\nend of parameters\n" not in tail:
        return "it is truncated (no 'end of trees' and 'end of parameters' after the trees)"
    if not tail.rstrip().rsplit(b"\n", 1)[-1].startswith(b"pandas_categorical:"):
        return "it is truncated (no closing pandas_categorical line)"
    return ""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    """Library versions at save time, for people reading the manifest; loading does not depend on them."""
    out = {}
    for name in ("salary-service", "lightgbm", "numpy", "scikit-learn"):
        try:
            out[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def save(directory: Path, features: JobFeatures, model: Any, metadata: dict[str, Any]) -> Path:
    """Write the bundle files into `directory` (created if needed) and return it; raises before writing."""
    out = _Writer()
    documents = {
        FEATURES_FILE: _object_state(features, "features", out),
        MODEL_FILE: _object_state(model, "model", out),
        METADATA_FILE: _encode(metadata, "metadata", out),
    }
    files = {**{name: _json(doc) for name, doc in documents.items()}, **out.files}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "taxonomy_version": taxonomy.version(),
        "written_by": _versions(),
        "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in files.items()},
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (directory / MANIFEST).write_bytes(_json(manifest))  # last: a folder without it is not a bundle
    return directory


def find(path: Path, source: str | None = None) -> Path:
    """The bundle folder at or under `path` (e.g. inside a downloaded MLflow model); refuses pickles."""
    if path.is_file() and path.name == MANIFEST:
        return path.parent
    found = sorted(path.rglob(MANIFEST), key=lambda p: (len(p.parts), str(p))) if path.is_dir() else []
    if found:
        return found[0].parent
    legacy = [path] if path.name == LEGACY_FILE else sorted(path.rglob(LEGACY_FILE)) if path.is_dir() else []
    if legacy:
        raise LegacyBundle(legacy_message(str(path), source))
    raise ValueError(
        f"no salary model bundle ({MANIFEST}) under {path}; expected a folder written by SalaryModel.save"
    )


def _read_json(path: Path, data: bytes | None = None) -> Any:
    """A JSON document from `data` (already read) or from `path`, or a ValueError naming the file."""
    try:
        return json.loads((path.read_bytes() if data is None else data).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"bundle file {path} cannot be read as JSON: {exc}") from exc


def _checked_files(folder: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    """The listed files' bytes, after checking each one's place, size and sha256; parsed as checked."""
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise ValueError(f"bundle manifest {folder / MANIFEST} lists no files")
    for name in DOCUMENTS:
        if name not in listed:
            raise ValueError(f"bundle manifest {folder / MANIFEST} does not list {name}")
    verified: dict[str, bytes] = {}
    for name, entry in listed.items():
        if not isinstance(entry, dict):
            raise ValueError(f"bundle manifest {folder / MANIFEST} has no checksum for {name!r}")
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or name == MANIFEST:
            raise ValueError(f"bundle manifest {folder / MANIFEST} lists a file outside the bundle: {name!r}")
        path = folder / relative
        if not path.is_file():
            raise ValueError(f"bundle {folder} is incomplete: {name} is missing")
        data = path.read_bytes()
        if len(data) != entry.get("bytes") or _sha256(data) != entry.get("sha256"):
            raise ValueError(
                f"bundle file {path} does not match its checksum in {MANIFEST} ({len(data)} bytes, "
                f"expected {entry.get('bytes')}): it was changed or truncated after it was saved"
            )
        verified[name] = data
    return verified


def load(folder: Path) -> tuple[JobFeatures, Any, dict[str, Any]]:
    """The fitted features, model and metadata of a bundle folder, or a ValueError saying why not."""
    manifest = _read_json(folder / MANIFEST)
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or type(version) is not int:
        raise ValueError(f"{folder / MANIFEST} is not a {FORMAT} manifest")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"bundle {folder} has format version {version}, newer than this release reads "
            f"({FORMAT_VERSION}); upgrade salary-service to load it"
        )
    if version < 1:
        raise ValueError(f"bundle {folder} has format version {version}; this release reads {FORMAT_VERSION}")
    files = _Reader(folder, _checked_files(folder, manifest))
    saved_taxonomy, current = manifest.get("taxonomy_version"), taxonomy.version()
    if saved_taxonomy != current:
        logger.warning(
            "bundle %s was saved with taxonomy %s, this code has %s: records are read with the current "
            "taxonomy files, so a renamed role or skill reads as unknown to this model; retrain to align",
            folder,
            saved_taxonomy,
            current,
        )
    try:
        documents = {name: _read_json(folder / name, files.data(name)) for name in DOCUMENTS}
        features = _build(documents[FEATURES_FILE], "features", files)
        model = _build(documents[MODEL_FILE], "model", files)
        metadata = _decode(documents[METADATA_FILE], "metadata", files)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"bundle {folder} does not have the layout of format {version}: {exc!r}") from exc
    if not isinstance(features, JobFeatures):
        raise ValueError(
            f"bundle {folder}: {FEATURES_FILE} holds a {type(features).__name__}, not JobFeatures"
        )
    if getattr(model, "feature_names_", None) != features.feature_names_:
        raise ValueError(f"bundle {folder}: the model's feature names differ from the feature pipeline's")
    return features, model, metadata
