"""The model bundle: fitted feature pipeline + quantile boosters + metadata, loadable without MLflow.

On disk it is a folder of plain files (models/serialize.py): JSON and LightGBM model text, no pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from features.interpret import Interpretation, interpret
from features.pipeline import JobFeatures, Records, interpret_all
from features.population import Population
from features.schema import JobRecord
from models import serialize
from models.baselines import Baseline
from models.confidence import confidence, evidence_warnings, ignored_warnings
from models.explain import drivers
from models.quantile import QuantileModel, quantile_name

# What a SalaryModel holds besides its parts: a cache rebuilt from the metadata.
_STATE = ("features", "model", "metadata")
_CACHES = ("_population",)


@dataclass
class Estimate:
    """One answer: the salary quantiles in USD per year, how the input was read, and caveats."""

    quantiles: dict[str, float]
    interpreted: Interpretation
    warnings: list[str] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    baseline: float | None = None  # USD; baseline × Π(1 + effect_pct/100) over drivers == P50
    evidence: dict[str, Any] | None = None  # training records behind the answer, and their group
    confidence: str | None = None  # high, medium or low (models/confidence.py)


class SalaryModel:
    """Everything needed to turn a JobRecord into a salary range; saved as plain files, never pickled."""

    def __init__(
        self, features: JobFeatures, model: QuantileModel | Baseline, metadata: dict[str, Any] | None = None
    ) -> None:
        self.features = features
        self.model = model
        self.metadata = dict(metadata or {})

    @property
    def quantile_names(self) -> list[str]:
        """Output column names, e.g. ['p10', 'p25', 'p50', 'p75', 'p90']."""
        return [quantile_name(q) for q in self.model.quantiles]

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The quantile levels of the output columns, shared with the baselines' interface."""
        return self.model.quantiles

    def predict_log(self, rows: Sequence[Interpretation], num_threads: int | None = None) -> np.ndarray:
        """Log-salary quantiles for interpreted rows."""
        return self.model.predict(self.features.transform_interpretations(rows), num_threads=num_threads)

    def predict(self, X: Records, num_threads: int | None = None) -> np.ndarray:
        """USD quantiles for many records (a DataFrame or a sequence of records or dicts)."""
        return np.exp(self.predict_log(interpret_all(X), num_threads=num_threads))

    def estimate(
        self,
        record: JobRecord | Mapping[str, Any],
        num_threads: int | None = 1,
        explain: bool = True,
        drivers_method: str = "path",
    ) -> Estimate:
        """One record to one Estimate; single-threaded by default for low latency under concurrency."""
        return self.estimate_many(
            [record], num_threads=num_threads, explain=explain, drivers_method=drivers_method
        )[0]

    def estimate_many(
        self,
        records: Sequence[JobRecord | Mapping[str, Any]],
        num_threads: int | None = None,
        explain: bool = True,
        drivers_method: str = "path",
    ) -> list[Estimate]:
        """Estimates for a batch, interpreting each record once; `explain` fills the drivers.

        `drivers_method` is `QuantileModel.contributions`' method: "path" (cheap, the default) or "shap".
        """
        rows = [interpret(r) for r in records]
        if not rows:
            return []
        X = self.features.transform_interpretations(rows)
        values = np.exp(self.model.predict(X, num_threads=num_threads))
        names = self.quantile_names
        population = self.population
        out = []
        for row, line in zip(rows, values, strict=True):
            estimate = Estimate(
                {n: float(v) for n, v in zip(names, line, strict=True)}, row, list(row.warnings)
            )
            if population is not None:
                found = population.evidence(row)
                estimate.evidence = {
                    "records": found.records,
                    "group": dict(found.group),  # evidence is shared by every record of its group
                    "matching_all_stated": found.stated,
                }
                estimate.confidence = confidence(found, float(line[0]), float(line[-1]))
                estimate.warnings += evidence_warnings(found, population.source)
            estimate.warnings += ignored_warnings(self.features.ignored(row), self.source)
            out.append(estimate)
        if explain and isinstance(self.model, QuantileModel):
            contrib, baseline = self.model.contributions(X, method=drivers_method)
            feature_names = list(self.features.get_feature_names_out())
            for estimate, row, line, base, x in zip(out, rows, contrib, baseline, X, strict=True):
                estimate.drivers, unstated = drivers(line, feature_names, row, x)
                estimate.baseline = float(np.exp(base + unstated))
        return out

    @property
    def cheap_drivers(self) -> bool:
        """Whether drivers cost about as much as the estimate (path attribution; baselines have none)."""
        return not isinstance(self.model, QuantileModel) or self.model.explains_by_path()

    @property
    def population(self) -> Population | None:
        """Who the training data covers; None for models trained before it was recorded."""
        cached = self.__dict__.get("_population")
        if cached is None and "population" in self.metadata:
            cached = self.__dict__.setdefault(
                "_population",
                Population.from_dict(
                    self.metadata["population"],
                    level_seniority="experience_level" not in self.features.unstated_,
                ),
            )
        return cached

    @property
    def source(self) -> str:
        """The training data's name for warnings; empty for models trained before it was recorded."""
        population = self.population
        return population.source if population is not None else ""

    def save(self, directory: Path) -> Path:
        """Write the bundle folder (JSON and LightGBM model text) at `directory` and return it."""
        extra = [k for k in vars(self) if k not in _STATE and k not in _CACHES]
        if extra:
            raise serialize.UnsupportedState(f"SalaryModel attributes {extra} have no place in the bundle")
        return serialize.save(directory, self.features, self.model, self.metadata)

    @staticmethod
    def load(path: Path, source: str | None = None) -> SalaryModel:
        """Load a bundle folder, or find it inside a downloaded model; `source` names it in refusals."""
        features, model, metadata = serialize.load(serialize.find(path, source))
        if not isinstance(model, QuantileModel | Baseline):
            raise ValueError(f"bundle at {path} holds a {type(model).__name__}, expected a salary model")
        return SalaryModel(features, model, metadata)
