"""Dask clusters for training and scoring that outgrow one process: `local`, or a scheduler's address."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dask
from distributed import Client, LocalCluster

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
LOCAL = "local"
WATCH_INTERVAL_S = 0.5  # how often a guarded step checks that its workers are still there
BUSY_WAIT_S = 600.0  # how long a training waits for another one on the same cluster to finish
WORKER_WAIT_S = 60.0  # how long a step waits for a worker when the cluster has none (a restart)
LIGHTGBM_TASK = "_train_part"  # the name lightgbm.dask gives a worker's share of one training
# A local cluster's workers neither spill nor pause. LightGBM trains on the rows a worker holds, in
# memory: spilling them frees nothing while a booster reads them (and reads them back as a copy), and
# a worker paused before its share of a training starts leaves the other workers waiting for it until
# LightGBM's time-out. A worker over its limit is still restarted by its nanny (WorkerLost).
HOLD_IN_MEMORY = {
    "distributed.worker.memory.target": False,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
}
T = TypeVar("T")


class ClusterUnavailable(RuntimeError):
    """No scheduler answered at the address: the message names it and what to do."""


class ClusterBusy(RuntimeError):
    """Another lightgbm.dask training kept the cluster's workers busy for longer than we wait."""


def other_trainings(client: Client) -> list[str]:
    """The lightgbm.dask tasks the cluster's workers are running now (another job's, before ours starts)."""
    keys = {str(key) for tasks in client.processing().values() for key in tasks}
    return sorted(key for key in keys if LIGHTGBM_TASK in key)


def wait_for_other_trainings(client: Client, timeout_s: float = BUSY_WAIT_S) -> None:
    """Start no booster while another lightgbm.dask training runs on the cluster.

    Two trainings at once can each hold one worker's thread while waiting for the other worker,
    which the other training holds: both hang (LightGBM #4942).
    """
    deadline = time.monotonic() + timeout_s
    running = other_trainings(client)
    if running:
        log.info("waiting for another LightGBM training on this cluster to finish (%s)", running[0])
    while running:
        if time.monotonic() >= deadline:
            raise ClusterBusy(
                f"another LightGBM training ({running[0]}) kept the cluster busy for {timeout_s:.0f} s; two "
                "trainings at once can deadlock (LightGBM #4942): run one salary train --cluster at a time"
            )
        time.sleep(WATCH_INTERVAL_S)
        running = other_trainings(client)


class WorkerLost(RuntimeError):
    """A worker left the cluster during a step that cannot go on without it (a lightgbm.dask training)."""


def worker_addresses(client: Client, timeout_s: float = WORKER_WAIT_S) -> list[str]:
    """The cluster's workers in name order; when none is up (a nanny restarting one), wait for one."""

    def listed() -> list[str]:
        workers = client.scheduler_info(n_workers=-1)["workers"].items()
        return [address for address, _ in sorted(workers, key=lambda item: str(item[1].get("name")))]

    if not (workers := listed()):
        try:
            client.wait_for_workers(1, timeout=timeout_s)
        except TimeoutError as error:
            message = f"the cluster has no worker, and none joined within {timeout_s:.0f} s"
            raise WorkerLost(message) from error
        workers = listed()
    return workers


def guarded(client: Client, step: Callable[[], T], what: str) -> T:
    """Run `step` while watching the cluster's workers; raise WorkerLost when one of them leaves.

    A lightgbm.dask training pins one task to each worker holding data; when one dies the others wait
    on its sockets (for LightGBM's `time_out` minutes) or fail with a socket error. Either way the
    caller learns which worker was lost, at once. The step's thread is left to end with the client.
    """
    before = set(client.nthreads())
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = step()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"guarded: {what}", daemon=True)
    thread.start()
    while True:
        thread.join(WATCH_INTERVAL_S)
        lost = sorted(before - set(client.nthreads()))
        if lost:
            raise WorkerLost(
                f"worker {', '.join(lost)} left the cluster while {what}; the training stopped and nothing "
                "was logged or registered"
            ) from outcome.get("error")
        if not thread.is_alive():
            break
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


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
            dask.config.set(HOLD_IN_MEMORY),  # read by the workers as they start
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit,
                # A free port: the default (8787) warns when another cluster on this machine holds it.
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,
        ):
            log.info(
                "started a local Dask cluster of %d worker processes (dashboard %s)",
                workers,
                cluster.dashboard_link,
            )
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
