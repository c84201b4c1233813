"""SYNTHETIC demo data: a seeded generator with known effects, so the service runs offline on a fresh clone.

Nothing here is real salary data. Each record's salary is a base per role times documented
multipliers (PLANTED_EFFECTS) times log-normal noise, so tests can check that a trained model
recovers the direction of every planted effect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.sources.base import TARGET, Source, SourceFrame, conform

ROLE_BASE_USD = {
    "Software Engineer": 120_000,
    "Data Scientist": 115_000,
    "Machine Learning Engineer": 135_000,
    "Data Analyst": 80_000,
    "Product Manager": 125_000,
    "DevOps Engineer": 115_000,
    "Data Engineer": 118_000,
    "UX Designer": 95_000,
}
SENIORITY_MULTIPLIER = {"Junior": 0.78, "": 1.0, "Senior": 1.30, "Staff": 1.55, "Principal": 1.75}
SENIORITY_YEARS = {
    "Junior": (0, 2),
    "": (2, 6),
    "Senior": (5, 12),
    "Staff": (8, 16),
    "Principal": (10, 25),
}
LOCATIONS = {
    # location text: (multiplier, sampling weight)
    "San Francisco, CA": (1.25, 0.16),
    "New York, NY": (1.20, 0.16),
    "Seattle, WA": (1.15, 0.12),
    "Austin, TX": (1.00, 0.14),
    "Chicago, IL": (0.98, 0.10),
    "Remote - US": (1.00, 0.12),
    "London, UK": (0.72, 0.08),
    "Berlin, Germany": (0.65, 0.06),
    "Bengaluru, India": (0.28, 0.06),
}
COMMON_SKILLS = [
    "Python",
    "SQL",
    "Java",
    "JavaScript",
    "AWS",
    "Docker",
    "Git",
    "Excel",
    "Tableau",
    "Go",
]
PREMIUM_SKILL = "Rust"
SKILL_MULTIPLIER = {PREMIUM_SKILL: 1.15, "Kubernetes": 1.06, "PyTorch": 1.08}
COMPANY_SIZE_MULTIPLIER = {"S": 0.90, "M": 1.0, "L": 1.10}
YEAR_GROWTH = 0.03  # per year after 2021
EXPERIENCE_GROWTH = 0.02  # per year of experience, capped at 15 years
NOISE_SIGMA = 0.12
LEVEL_WEIGHTS = (0.18, 0.34, 0.28, 0.12, 0.08)
SIZE_WEIGHTS = (0.25, 0.35, 0.40)
YEAR_WEIGHTS = {2021: 0.15, 2022: 0.25, 2023: 0.3, 2024: 0.3}
SKILL_CHANCE = 0.2  # of each SKILL_MULTIPLIER skill, per record

PLANTED_EFFECTS = {
    "seniority": SENIORITY_MULTIPLIER,
    "location": {k: v[0] for k, v in LOCATIONS.items()},
    "skills": SKILL_MULTIPLIER,
    "company_size": COMPANY_SIZE_MULTIPLIER,
    "work_year_growth": YEAR_GROWTH,
    "experience_growth_per_year": EXPERIENCE_GROWTH,
    "noise_sigma": NOISE_SIGMA,
}


def generate_demo(n: int = 5000, seed: int = 7) -> pd.DataFrame:
    """Draw `n` synthetic job records with salaries built from the planted effects."""
    rng = np.random.default_rng(seed)
    roles = list(ROLE_BASE_USD)
    levels = list(SENIORITY_MULTIPLIER)
    locations = list(LOCATIONS)
    loc_weights = np.array([LOCATIONS[k][1] for k in locations])
    loc_weights = loc_weights / loc_weights.sum()
    rows = []
    for _ in range(n):
        role = roles[rng.integers(len(roles))]
        level = levels[rng.choice(len(levels), p=LEVEL_WEIGHTS)]
        location = locations[rng.choice(len(locations), p=loc_weights)]
        lo, hi = SENIORITY_YEARS[level]
        years = float(np.round(rng.uniform(lo, hi), 1))
        skills = list(rng.choice(COMMON_SKILLS, size=rng.integers(1, 5), replace=False))
        for special in SKILL_MULTIPLIER:
            if rng.random() < SKILL_CHANCE:
                skills.append(special)
        size = ["S", "M", "L"][rng.choice(3, p=SIZE_WEIGHTS)]
        year = int(rng.choice(list(YEAR_WEIGHTS), p=list(YEAR_WEIGHTS.values())))
        salary = ROLE_BASE_USD[role] * SENIORITY_MULTIPLIER[level] * LOCATIONS[location][0]
        salary *= COMPANY_SIZE_MULTIPLIER[size]
        salary *= (1 + EXPERIENCE_GROWTH) ** min(years, 15.0)
        salary *= (1 + YEAR_GROWTH) ** (year - 2021)
        for skill in skills:
            salary *= SKILL_MULTIPLIER.get(skill, 1.0)
        salary *= float(np.exp(rng.normal(0.0, NOISE_SIGMA)))
        title = f"{level} {role}".strip()
        rows.append(
            {
                "title": title,
                "skills": skills,
                "location": location,
                "years_experience": years,
                "employment_type": "full_time",
                "remote_ratio": 100.0 if location.startswith("Remote") else 0.0,
                "company_size": size,
                "work_year": year,
                TARGET: round(salary, -2),
            }
        )
    return conform(pd.DataFrame(rows))


def draw_demo(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """`generate_demo`'s records and planted effects drawn column by column, fast enough for millions.

    The same distributions as `generate_demo`, but not the same stream: a seed gives other records.
    """
    roles = np.array(list(ROLE_BASE_USD))
    levels = np.array(list(SENIORITY_MULTIPLIER))
    locations = np.array(list(LOCATIONS))
    loc_weights = np.array([LOCATIONS[k][1] for k in locations])
    role = roles[rng.integers(len(roles), size=n)]
    level = levels[rng.choice(len(levels), size=n, p=LEVEL_WEIGHTS)]
    location = locations[rng.choice(len(locations), size=n, p=loc_weights / loc_weights.sum())]
    lo = np.array([SENIORITY_YEARS[v][0] for v in level], dtype=float)
    hi = np.array([SENIORITY_YEARS[v][1] for v in level], dtype=float)
    years = np.round(rng.uniform(lo, hi), 1)
    # 1-4 common skills without repeats: the first k of a random order of all of them
    order = np.argsort(rng.random((n, len(COMMON_SKILLS))), axis=1)
    count = rng.integers(1, 5, size=n)
    special = rng.random((n, len(SKILL_MULTIPLIER))) < SKILL_CHANCE
    common = np.array(COMMON_SKILLS)
    specials = list(SKILL_MULTIPLIER)
    skills = [
        [*common[o[:k]], *(s for s, on in zip(specials, flags, strict=True) if on)]
        for o, k, flags in zip(order, count, special, strict=True)
    ]
    size = np.array(["S", "M", "L"])[rng.choice(3, size=n, p=SIZE_WEIGHTS)]
    year = rng.choice(list(YEAR_WEIGHTS), size=n, p=list(YEAR_WEIGHTS.values()))
    salary = np.array([ROLE_BASE_USD[r] for r in role], dtype=float)
    salary *= np.array([SENIORITY_MULTIPLIER[v] for v in level])
    salary *= np.array([LOCATIONS[v][0] for v in location])
    salary *= np.array([COMPANY_SIZE_MULTIPLIER[v] for v in size])
    salary *= (1 + EXPERIENCE_GROWTH) ** np.minimum(years, 15.0)
    salary *= (1 + YEAR_GROWTH) ** (year - 2021)
    for i, skill in enumerate(specials):
        salary *= np.where(special[:, i], SKILL_MULTIPLIER[skill], 1.0)
    salary *= np.exp(rng.normal(0.0, NOISE_SIGMA, size=n))
    frame = pd.DataFrame(
        {
            "title": np.char.strip(np.char.add(np.char.add(level, " "), role)),
            "skills": skills,
            "location": location,
            "years_experience": years,
            "employment_type": "full_time",
            "remote_ratio": np.where(np.char.startswith(location, "Remote"), 100.0, 0.0),
            "company_size": size,
            "work_year": year.astype(np.int64),
            TARGET: np.round(salary, -2),
        }
    )
    return conform(frame)


def partition_seeds(seed: int, partitions: int) -> list[np.random.SeedSequence]:
    """One independent seed per partition, so any partition can be drawn alone and in any order."""
    return np.random.SeedSequence(seed).spawn(partitions)


def write_demo_parquet(directory: Path, n: int, seed: int = 7, partition_rows: int = 1_000_000) -> list[Path]:
    """Write `n` demo rows as Parquet partitions of `partition_rows`, one partition in memory at a time."""
    if n < 1 or partition_rows < 1:
        raise ValueError(f"rows ({n}) and partition rows ({partition_rows}) must be at least 1")
    directory.mkdir(parents=True, exist_ok=True)
    partitions = -(-n // partition_rows)
    paths = []
    for i, part_seed in enumerate(partition_seeds(seed, partitions)):
        rows = min(partition_rows, n - i * partition_rows)
        path = directory / f"part-{i:05d}.parquet"
        draw_demo(rows, np.random.default_rng(part_seed)).to_parquet(path, index=False)
        paths.append(path)
    return paths


def write_demo(path: Path, n: int = 5000, seed: int = 7) -> Path:
    """Write the demo dataset as CSV (skills `;`-separated) so it can be inspected and re-read."""
    frame = generate_demo(n=n, seed=seed)
    frame = frame.assign(
        skills=frame["skills"].map(lambda s: ";".join(s) if isinstance(s, list) else "")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


class DemoSource(Source):
    """Synthetic demo records (generated, or read back from a CSV written by `salary data demo`)."""

    name = "demo"
    description = "SYNTHETIC demo data with planted effects; not real salaries."

    def read(self, path: Path | None = None) -> SourceFrame:
        """Generate the demo frame, or read one written earlier by `write_demo`."""
        if path is None:
            frame = generate_demo()
            return SourceFrame(source=self.name, frame=frame, rows_read=len(frame))
        raw = pd.read_csv(path, keep_default_na=True)
        raw["skills"] = raw["skills"].map(
            lambda s: [x for x in str(s).split(";") if x] if isinstance(s, str) else []
        )
        frame = conform(raw)
        return SourceFrame(source=self.name, frame=frame, path=str(path), rows_read=len(raw))
