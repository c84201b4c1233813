"""Dask clusters for training and scoring that outgrow one process: `local`, or a scheduler's address."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from distributed import Client, LocalCluster

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
LOCAL = "local"


class ClusterUnavailable(RuntimeError):
    """No scheduler answered at the address: the message names it and what to do."""


@contextlib.contextmanager
def connect(
    address: str,
    timeout_s: float = CONNECT_TIMEOUT_S,
    workers: int = 2,
    memory_limit: str | int = "auto",
) -> Iterator[Client]:
    """A client of the cluster at `address`, or of a LocalCluster of worker processes for `local`.

    A local cluster lives as long as the block; a remote one is only disconnected from.
    """
    if address == LOCAL:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            log.info("started a local Dask cluster of %d worker processes", workers)
            yield client
        return
    try:
        client = Client(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(
            f"no Dask scheduler answered at {address} within {timeout_s:.0f} s "
            f"({type(exc).__name__}); start one (`dask scheduler`, then `dask worker ADDRESS`) "
            f"or pass --cluster {LOCAL} for a cluster on this machine"
        ) from exc
    with client:
        log.info("connected to the Dask scheduler at %s", address)
        yield client
