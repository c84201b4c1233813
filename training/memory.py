"""Whether a single-process training run fits in this machine's memory, asked before the big allocations.

`salary train` on a 3.8M-row file used 7.56 GB and was killed after 18 minutes without a word
(issue 15). The estimate is made once the feature columns are known, before the training matrix,
the partial copies and LightGBM's datasets exist, from what those take per row and column; the
constants are calibrated against peaks measured on the demo data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# Calibrated on the demo data (44 feature columns; issue 15 in benchmarks/RESULTS.md): the memory a
# fit added after this check was 1,412 bytes per row without copies (20k rows: 32 per column) and,
# with 3 copies, that per row and partial copy plus 650-810 per copy (10k and 40k rows).
BYTES_PER_VALUE = 32  # per row and column: the float64 matrix, its slices for the boosters, LightGBM's bins
COPY_OBJECT_BYTES = 800  # per partial copy, besides its matrix row: its frame row and interpretation
HEADROOM = 1.2  # measured peaks scatter; refuse a run that would leave the machine no margin
MEMINFO = Path("/proc/meminfo")
CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (
        Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
        Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ),
)
NO_LIMIT = 1 << 60  # cgroups write an unset limit as 'max' or as a number near 2**63


class NotEnoughMemory(ValueError):
    """Training would need more memory than the machine has; raised before it starts allocating."""


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process may still allocate: MemAvailable, or less under a cgroup limit; None if unknown."""
    found: list[int] = []
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in CGROUP_FILES:
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < NO_LIMIT:
            found.append(max(limit - usage, 0))
    return min(found) if found else None


def training_bytes(rows: int, columns: int, copies: int, centers: int = 0) -> int:
    """Memory a fit still needs for `rows` rows of `columns` features with `copies` partial copies each
    and `centers` dedicated centers (each a matrix of the rows as one kind of call states them).

    The frame and the rows' interpretations exist when this is asked, so they are not counted here:
    they are already missing from what the machine has available. A center's rows are counted like a
    copy's, a bound not yet calibrated against a measured peak.
    """
    extra = copies + centers
    need = rows * (1 + extra) * columns * BYTES_PER_VALUE + rows * extra * COPY_OBJECT_BYTES
    return int(need * HEADROOM)


def check_training_memory(
    rows: int,
    columns: int,
    copies: int,
    available: Callable[[], int | None] = available_memory,
    centers: int = 0,
) -> None:
    """Refuse up front, saying what is needed and what there is, when a fit will not fit in memory."""
    need = training_bytes(rows, columns, copies, centers)
    have = available()
    if have is not None and need > have:
        raise NotEnoughMemory(
            f"training on {rows:,} rows ({columns} feature columns, {copies} partial copies per row, "
            f"{centers} dedicated centers) needs "
            f"about {need / 2**30:.1f} GiB more memory and this machine has {have / 2**30:.1f} GiB "
            "available; train on fewer rows (or with fewer --copies), or on a Dask cluster: "
            "salary train --cluster local --data 'FILES' (worker processes here) or "
            "--cluster tcp://SCHEDULER:8786 (docs/training.md)"
        )
