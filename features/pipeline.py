"""JobFeatures: the one fitted transformer from job records to a matrix, in training and serving."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from features.interpret import Interpretation, interpret
from features.role import UNKNOWN_ROLE
from features.schema import EXPERIENCE_LEVELS, JobRecord
from features.seniority import SENIORITY_RANK, stated_seniority

CATEGORICAL = (
    "role",
    "role_group",
    "country",
    "region",
    "metro",
    "employment_type",
    "experience_level",
    "industry",
    "education",
)
NUMERIC = (
    "seniority_rank",
    "years_experience",
    "remote_ratio",
    "company_size_rank",
    "work_year",
    "remote",
)
# Record fields a dataset may never state, and the column each one fills. A model whose training rows
# never stated one has not learned what it is worth: the column stays missing in its rows whatever a
# client sends, and the estimate says the field played no part (aijobs has no years of experience, yet
# years sent to it routed the call off its title + location center and moved P50 by 1.4%).
OPTIONAL_NUMERIC = {
    "years_experience": "years_experience",
    "remote_ratio": "remote_ratio",
    "company_size": "company_size_rank",
}
OPTIONAL_CATEGORICAL = ("employment_type", "industry", "education")
# Headcount, a column only in models whose training rows gave it (after the one-hot columns, so models
# fitted before it existed keep their layout).
EMPLOYEES = "company_employees_log10"
# The Interpretation attribute each named column is computed from (the others share a column's name).
SOURCE_OF = {
    "seniority_rank": "seniority",
    "company_size_rank": "company_size",
    EMPLOYEES: "company_employees",
}
SKILL_PREFIX = "skill__"
TITLE_PREFIX = "title__"
# A title was sent but neither a known role nor any title word of the vocabulary reads it. Without this
# column such a row looked like one whose client sent no title, and was answered as a call that states
# only a place (Ask A Manager title + location calls: 1.064x the MAE of a model that learns these rows
# as a group). Last column of a model that has one, so models fitted before it keep their layout.
UNREAD_TITLE = TITLE_PREFIX + "(unread)"
# An experience level is an order, not a set of names: as a category, an aijobs model put an executive
# Data Manager in the US 25% below a senior one (74 of 540 adjacent levels fell). A model whose training
# rows state levels reads the level as this rank, monotone like years, and no longer as a category.
LEVEL_RANK = "experience_level_rank"
_LEVEL_RANK = {level: float(rank) for rank, level in enumerate(EXPERIENCE_LEVELS)}
_SIZE_RANK = {"S": 0.0, "M": 1.0, "L": 2.0}
_NAN = float("nan")
# A place stated but too rare in the training rows for a code of its own is one of the rare places, not
# an unknown one: aijobs rows from countries with fewer than 5 records earn far less than the average
# (title + location calls: $76.5k MAE answered as "no place" against $38.5k for a model that pooled them).
OTHER = "__other__"
POOLED = ("country",)
# LightGBM rejects JSON punctuation in feature names; skills typed by people may contain it.
_UNSAFE_NAME = re.compile(r"[^\w .+#/&'()-]")


def column_name(prefix: str, value: str) -> str:
    """A feature name LightGBM accepts for a skill or title word (JSON punctuation replaced)."""
    return prefix + _UNSAFE_NAME.sub("_", value)


Records = pd.DataFrame | Sequence[JobRecord] | Sequence[dict[str, Any]] | Sequence[Interpretation]


def interpret_all(X: Records) -> list[Interpretation]:
    """Interpret a DataFrame or a sequence of records, dicts or ready interpretations."""
    if isinstance(X, pd.DataFrame):
        rows: Iterable[Any] = X.to_dict("records")
    else:
        rows = X
    return [r if isinstance(r, Interpretation) else interpret(r) for r in rows]


def _unique(names: Iterable[str]) -> list[str]:
    """Names made distinct by a numeric suffix when sanitising made two of them equal."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _most_frequent(counts: Counter[str], limit: int, min_count: int) -> list[str]:
    """Most frequent first, ties by name: counted from sets, whose order changes with each process's
    string hashing, so `most_common` alone made the column order (and the model) differ run to run."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [value for value, count in ranked[:limit] if count >= min_count]


@dataclass
class FeatureCounts:
    """What fitting JobFeatures reads from the rows, as counts that add up across partitions of the data."""

    rows: int = 0
    categories: dict[str, Counter[str]] = field(default_factory=dict)
    skills: Counter[str] = field(default_factory=Counter)
    title_tokens: Counter[str] = field(default_factory=Counter)
    years: Counter[int] = field(default_factory=Counter)  # rows per stated work year
    employees: int = 0  # rows stating a headcount
    numbers: Counter[str] = field(default_factory=Counter)  # rows stating each field of OPTIONAL_NUMERIC
    seniorities: Counter[str] = field(default_factory=Counter)  # rows per seniority level
    unread_titles: int = 0  # rows with a title whose role is unknown

    @classmethod
    def of(cls, rows: Sequence[Interpretation]) -> FeatureCounts:
        """Count one partition's interpreted rows."""
        # "unknown" is not a role: a title we could not read leaves the role column missing.
        categories = {
            name: Counter(v for r in rows if (v := getattr(r, name)) not in (None, UNKNOWN_ROLE))
            for name in CATEGORICAL
        }
        return cls(
            rows=len(rows),
            categories=categories,
            skills=Counter(s for r in rows for s in set(r.skills)),
            title_tokens=Counter(t for r in rows for t in set(r.title_tokens)),
            years=Counter(r.work_year for r in rows if r.work_year is not None),
            employees=sum(r.company_employees is not None for r in rows),
            numbers=Counter({f: sum(getattr(r, f) is not None for r in rows) for f in OPTIONAL_NUMERIC}),
            seniorities=Counter(r.seniority for r in rows if r.seniority is not None),
            unread_titles=sum(bool(r.title_tokens) and r.role == UNKNOWN_ROLE for r in rows),
        )

    def __add__(self, other: FeatureCounts) -> FeatureCounts:
        """Counts of both partitions together."""
        names = self.categories.keys() | other.categories.keys()
        return FeatureCounts(
            rows=self.rows + other.rows,
            categories={
                n: self.categories.get(n, Counter()) + other.categories.get(n, Counter()) for n in names
            },
            skills=self.skills + other.skills,
            title_tokens=self.title_tokens + other.title_tokens,
            years=self.years + other.years,
            employees=self.employees + other.employees,
            numbers=self.numbers + other.numbers,
            seniorities=self.seniorities + other.seniorities,
            unread_titles=self.unread_titles + other.unread_titles,
        )


@dataclass(frozen=True)
class Ignored:
    """A field, or one value of it, that a model cannot use: `value` None when training never stated it."""

    field: str
    value: str | None = None
    known: tuple[str, ...] = ()  # the values it has codes for
    min_count: int = 0  # training records a value needs for a code


class JobFeatures(TransformerMixin, BaseEstimator):
    """Learns category codes and skill/title-token vocabularies; transform is pure and per row."""

    def __init__(self, min_count: int = 5, max_skills: int = 300, max_title_tokens: int = 300) -> None:
        self.min_count = min_count
        self.max_skills = max_skills
        self.max_title_tokens = max_title_tokens

    def fit(self, X: Records, y: Any = None) -> JobFeatures:
        """Learn which categories, skills and title words are frequent enough for their own code."""
        rows = interpret_all(X)
        if not rows:
            raise ValueError("JobFeatures.fit received no rows; expected at least one job record")
        return self.fit_counts(FeatureCounts.of(rows))

    def fit_counts(self, counts: FeatureCounts) -> JobFeatures:
        """Fit from value counts (summed over a cluster's partitions): what `fit` learns from the rows."""
        if not counts.rows:
            raise ValueError("JobFeatures.fit_counts received counts of no rows; expected at least one")
        self.categories_: dict[str, dict[str, int]] = {}
        for name in CATEGORICAL:
            counted = counts.categories.get(name, Counter())
            frequent = sorted(v for v, c in counted.items() if c >= self.min_count)
            self.categories_[name] = {v: i for i, v in enumerate(frequent)}
            rare = sum(c for c in counted.values() if c < self.min_count)
            if name in POOLED and rare and rare >= self.min_count:
                self.categories_[name][OTHER] = len(frequent)
        self.skills_ = _most_frequent(counts.skills, self.max_skills, self.min_count)
        self.title_tokens_ = _most_frequent(counts.title_tokens, self.max_title_tokens, self.min_count)
        self.default_work_year_: int | None = max(counts.years) if counts.years else None
        self.feature_names_ = [
            *NUMERIC,
            *CATEGORICAL,
            *_unique(column_name(SKILL_PREFIX, s) for s in self.skills_),
            *(column_name(TITLE_PREFIX, t) for t in self.title_tokens_),
        ]
        # A seniority no training row holds is unknown, not a rank between or beyond the ones seen:
        # Stack Overflow states only managers and executives, so "Senior Software Engineer" fell on
        # the managers' side of every split (+5% P50 and the pattern of a call that states experience).
        self.seniorities_: list[str] | None = sorted(counts.seniorities)
        self.unstated_ = [f for f in OPTIONAL_NUMERIC if not counts.numbers.get(f)]
        self.unstated_ += [f for f in OPTIONAL_CATEGORICAL if not self.categories_[f]]
        # A level sent to a model whose rows never state one played a part through the seniority it
        # implies, where the rows held that seniority: the demo model read entry and senior, not mid
        # or executive, so an executive Data Engineer got less than a senior one. Now it plays none.
        if not self.categories_["experience_level"]:
            self.unstated_.append("experience_level")
        self.employees_col_: int | None = None
        if counts.employees:
            self.employees_col_ = len(self.feature_names_)
            self.feature_names_.append(EMPLOYEES)
        self.level_col_: int | None = None
        if any(v in _LEVEL_RANK for v in self.categories_["experience_level"]):
            self.level_col_ = len(self.feature_names_)
            self.feature_names_.append(LEVEL_RANK)
        self.unread_col_: int | None = None
        if counts.unread_titles >= self.min_count:
            self.unread_col_ = len(self.feature_names_)
            self.feature_names_.append(UNREAD_TITLE)
        self._index()
        self.n_features_in_ = len(CATEGORICAL) + len(NUMERIC)
        return self

    def _index(self) -> None:
        offset = len(NUMERIC) + len(CATEGORICAL)
        self._skill_col = {s: offset + i for i, s in enumerate(self.skills_)}
        offset += len(self.skills_)
        self._token_col = {t: offset + i for i, t in enumerate(self.title_tokens_)}
        unstated = [OPTIONAL_NUMERIC[f] for f in self.unstated_ if f in OPTIONAL_NUMERIC]
        self._unstated_cols = [NUMERIC.index(name) for name in unstated]
        seen = self.__dict__.get("seniorities_")  # None: fitted before it was recorded, every level
        self._ranks = SENIORITY_RANK if seen is None else {s: SENIORITY_RANK[s] for s in seen}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("employees_col_", None)
        self.__dict__.setdefault("unstated_", [])  # fitted before it was recorded
        self.__dict__.setdefault("seniorities_", None)  # fitted before it was recorded: every level
        self.__dict__.setdefault("unread_col_", None)  # fitted before the column existed
        self.__dict__.setdefault("level_col_", None)  # fitted before the column existed: a category
        if "feature_names_" in state:
            self._index()

    @property
    def categorical_features(self) -> list[str]:
        """Columns LightGBM must treat as unordered categories."""
        return list(CATEGORICAL)

    @property
    def monotone_increasing(self) -> list[str]:
        """Columns whose increase must never lower the estimate (experience)."""
        # A seniority read off a level must rise with it; one read off a title alone is left free, as
        # the title's words carry it too (and constrained, it cost Stack Overflow 1.7% all-fields MAE).
        ranked = self.__dict__.get("level_col_") is not None
        return ["years_experience", *(["seniority_rank", LEVEL_RANK] if ranked else [])]

    def columns_of(self, attributes: Iterable[str]) -> list[int]:
        """The columns computed from these Interpretation attributes alone, for column-wise assembly."""
        wanted = set(attributes)
        dense = [*NUMERIC, *CATEGORICAL]
        out = [i for i, name in enumerate(dense) if SOURCE_OF.get(name, name) in wanted]
        if "skills" in wanted:
            out += list(self._skill_col.values())
        if "title_tokens" in wanted:
            out += list(self._token_col.values())
            if self.unread_col_ is not None:
                out.append(self.unread_col_)
        if "experience_level" in wanted and self.level_col_ is not None:
            out.append(self.level_col_)
        if "company_employees" in wanted and self.employees_col_ is not None:
            out.append(self.employees_col_)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of every output column, in order."""
        return np.asarray(self.feature_names_, dtype=object)

    def transform(self, X: Records) -> np.ndarray:
        """Records to a float matrix; unknown categories and missing values become NaN."""
        return self.transform_interpretations(interpret_all(X))

    def transform_interpretations(self, rows: Sequence[Interpretation]) -> np.ndarray:
        """The matrix for already-interpreted rows, so serving interprets each record once."""
        n_dense = len(NUMERIC) + len(CATEGORICAL)
        dense: list[list[float]] = []
        one_rows: list[int] = []
        one_cols: list[int] = []
        cats = self.categories_
        role, group, country = cats["role"], cats["role_group"], cats["country"]
        other_country = country.get(OTHER, _NAN)
        region, metro, employment = cats["region"], cats["metro"], cats["employment_type"]
        level, industry, education = cats["experience_level"], cats["industry"], cats["education"]
        skill_col, token_col = self._skill_col, self._token_col
        default_year = self.default_work_year_
        ranks = self._ranks
        leveled = "experience_level" not in self.unstated_
        if self.level_col_ is not None:
            level = {}  # the level is its rank column, not a category
        unread: list[int] = []
        for i, r in enumerate(rows):
            year = r.work_year if r.work_year is not None else default_year
            dense.append(
                [
                    ranks.get(stated_seniority(r.seniority, r.seniority_source, leveled), _NAN),  # type: ignore[arg-type]
                    r.years_experience if r.years_experience is not None else _NAN,
                    r.remote_ratio if r.remote_ratio is not None else _NAN,
                    _SIZE_RANK[r.company_size] if r.company_size is not None else _NAN,
                    year if year is not None else _NAN,
                    1.0 if r.remote else 0.0,
                    role.get(r.role, _NAN),
                    group.get(r.role_group, _NAN),  # type: ignore[arg-type]
                    _NAN if r.country is None else country.get(r.country, other_country),
                    region.get(r.region, _NAN),  # type: ignore[arg-type]
                    metro.get(r.metro, _NAN),  # type: ignore[arg-type]
                    employment.get(r.employment_type, _NAN),  # type: ignore[arg-type]
                    level.get(r.experience_level, _NAN),  # type: ignore[arg-type]
                    industry.get(r.industry, _NAN),  # type: ignore[arg-type]
                    education.get(r.education, _NAN),  # type: ignore[arg-type]
                ]
            )
            for s in r.skills:
                col = skill_col.get(s)
                if col is not None:
                    one_rows.append(i)
                    one_cols.append(col)
            words = len(one_rows)
            for t in r.title_tokens:
                col = token_col.get(t)
                if col is not None:
                    one_rows.append(i)
                    one_cols.append(col)
            if r.title_tokens and len(one_rows) == words and r.role not in role:
                unread.append(i)
        out = np.zeros((len(rows), len(self.feature_names_)), dtype=np.float64)
        if rows:
            out[:, :n_dense] = np.asarray(dense, dtype=np.float64)
            if self.skills_:
                # No skills listed means skills unknown, not "none of these": the columns are missing,
                # so a short list or none at all is not read as a lack of every skill.
                unlisted = [i for i, r in enumerate(rows) if not r.skills]
                if unlisted:
                    out[np.ix_(unlisted, list(self._skill_col.values()))] = _NAN
            out[one_rows, one_cols] = 1.0
            if self.unread_col_ is not None:
                out[unread, self.unread_col_] = 1.0
            if self.level_col_ is not None:
                out[:, self.level_col_] = [_LEVEL_RANK.get(r.experience_level, _NAN) for r in rows]  # type: ignore[arg-type]
            if self.employees_col_ is not None:
                out[:, self.employees_col_] = [
                    math.log10(r.company_employees) if r.company_employees is not None else _NAN for r in rows
                ]
            out[:, self._unstated_cols] = _NAN
        return out

    def ignored(self, row: Interpretation) -> list[Ignored]:
        """What a record states that plays no part in its estimate: fields the training rows never
        stated, and values of a detail too rare in them for a code of its own."""
        out = [Ignored(f) for f in self.unstated_ if getattr(row, f) is not None]
        for name in OPTIONAL_CATEGORICAL:
            value, known = getattr(row, name), self.categories_[name]
            if value is not None and known and value not in known:
                out.append(Ignored(name, value, tuple(known), self.min_count))
        return out
