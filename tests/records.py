"""Job records shared by tests that compare predictions: a batch that takes every input path."""

from __future__ import annotations

# Full and partial records, unknown values, posting text, numbers at the edges, and nothing at all.
VARIED_RECORDS: list[dict[str, object]] = [
    {
        "title": "Senior Data Scientist",
        "skills": ["Python", "PyTorch", "Rust"],
        "location": "San Francisco, CA",
        "years_experience": 6.0,
        "company_size": "L",
        "remote_ratio": 100.0,
        "employment_type": "FT",
        "work_year": 2024,
    },
    {"title": "Junior Data Analyst", "location": "Austin, TX"},
    {"title": "Staff Machine Learning Engineer", "country": "DE", "years_experience": 14.0},
    {"description": "Hiring a DevOps engineer in London, Kubernetes and Go, five years of experience."},
    {"title": "Principal Product Manager", "experience_level": "EX", "work_year": 2030},
    {"title": "Zookeeper", "location": "Atlantis", "skills": ["Basket weaving"]},
    {"skills": ["SQL", "Excel"]},
    {"years_experience": 0.0, "company_size": "S"},
    {"location": "Bangalore, India", "title": "UX Designer", "company_employees": 40.0},
    {},
]
