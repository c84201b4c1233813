"""JobFeatures: the one fitted transformer from job records to a numeric matrix, used in training and serving."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from features.interpret import Interpretation, interpret
from features.schema import JobRecord
from features.seniority import SENIORITY_RANK

CATEGORICAL = ("role", "country", "region", "employment_type", "experience_level")
NUMERIC = ("seniority_rank", "years_experience", "remote_ratio", "company_size_rank", "work_year", "remote")
SKILL_PREFIX = "skill__"
TITLE_PREFIX = "title__"
_SIZE_RANK = {"S": 0.0, "M": 1.0, "L": 2.0}

Records = pd.DataFrame | Sequence[JobRecord] | Sequence[dict[str, Any]] | Sequence[Interpretation]


def interpret_all(X: Records) -> list[Interpretation]:
    """Interpret a DataFrame or a sequence of records, dicts or ready interpretations."""
    if isinstance(X, pd.DataFrame):
        rows: Iterable[Any] = X.to_dict("records")
    else:
        rows = X
    return [r if isinstance(r, Interpretation) else interpret(r) for r in rows]


class JobFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Learns category codes and skill/title-token vocabularies; transform is pure and row-independent."""

    def __init__(self, min_count: int = 5, max_skills: int = 300, max_title_tokens: int = 300) -> None:
        self.min_count = min_count
        self.max_skills = max_skills
        self.max_title_tokens = max_title_tokens

    def fit(self, X: Records, y: Any = None) -> JobFeatures:
        """Learn which categories, skills and title words are frequent enough to get their own code."""
        rows = interpret_all(X)
        if not rows:
            raise ValueError("JobFeatures.fit received no rows; expected at least one job record")
        self.categories_: dict[str, dict[str, int]] = {}
        for name in CATEGORICAL:
            counts = Counter(getattr(r, name) for r in rows if getattr(r, name) is not None)
            frequent = sorted(v for v, c in counts.items() if c >= self.min_count)
            self.categories_[name] = {v: i for i, v in enumerate(frequent)}
        skill_counts = Counter(s for r in rows for s in set(r.skills))
        self.skills_ = [s for s, c in skill_counts.most_common(self.max_skills) if c >= self.min_count]
        token_counts = Counter(t for r in rows for t in set(r.title_tokens))
        self.title_tokens_ = [t for t, c in token_counts.most_common(self.max_title_tokens) if c >= self.min_count]
        years = [r.work_year for r in rows if r.work_year is not None]
        self.default_work_year_: int | None = max(years) if years else None
        self.feature_names_ = [
            *NUMERIC,
            *CATEGORICAL,
            *(SKILL_PREFIX + s for s in self.skills_),
            *(TITLE_PREFIX + t for t in self.title_tokens_),
        ]
        self._index()
        self.n_features_in_ = len(CATEGORICAL) + len(NUMERIC)
        return self

    def _index(self) -> None:
        offset = len(NUMERIC) + len(CATEGORICAL)
        self._skill_col = {s: offset + i for i, s in enumerate(self.skills_)}
        offset += len(self.skills_)
        self._token_col = {t: offset + i for i, t in enumerate(self.title_tokens_)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "feature_names_" in state:
            self._index()

    @property
    def categorical_features(self) -> list[str]:
        """Columns LightGBM must treat as unordered categories."""
        return list(CATEGORICAL)

    @property
    def monotone_increasing(self) -> list[str]:
        """Columns whose increase must never lower the estimate (experience)."""
        return ["years_experience"]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of every output column, in order."""
        return np.asarray(self.feature_names_, dtype=object)

    def transform(self, X: Records) -> np.ndarray:
        """Records to a float matrix; unknown categories and missing values become NaN."""
        return self.transform_interpretations(interpret_all(X))

    def transform_interpretations(self, rows: Sequence[Interpretation]) -> np.ndarray:
        """The matrix for already-interpreted rows, so serving interprets each record once."""
        out = np.full((len(rows), len(self.feature_names_)), np.nan, dtype=np.float64)
        n_num = len(NUMERIC)
        cats = [self.categories_[name] for name in CATEGORICAL]
        for i, r in enumerate(rows):
            line = out[i]
            if r.seniority is not None:
                line[0] = SENIORITY_RANK[r.seniority]
            if r.years_experience is not None:
                line[1] = r.years_experience
            if r.remote_ratio is not None:
                line[2] = r.remote_ratio
            if r.company_size is not None:
                line[3] = _SIZE_RANK[r.company_size]
            year = r.work_year if r.work_year is not None else self.default_work_year_
            if year is not None:
                line[4] = year
            line[5] = 1.0 if r.remote else 0.0
            for j, (name, codes) in enumerate(zip(CATEGORICAL, cats, strict=True)):
                code = codes.get(getattr(r, name))
                if code is not None:
                    line[n_num + j] = code
            skill_cols = [self._skill_col[s] for s in r.skills if s in self._skill_col]
            token_cols = [self._token_col[t] for t in r.title_tokens if t in self._token_col]
            line[n_num + len(CATEGORICAL):] = 0.0
            line[skill_cols] = 1.0
            line[token_cols] = 1.0
        return out
