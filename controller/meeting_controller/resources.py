"""CPU and memory usage of this MC for the comprehensive heartbeat.

Inside a pod the numbers that matter are the container's: usage against the cgroup's limits
(cgroup v2 ``cpu.stat``/``cpu.max``, ``memory.current``/``memory.max``). Outside a cgroup with
limits (a laptop, the demo) it falls back to the process: CPU time over wall time across the
machine's cores, and resident memory over the machine's memory. File access is injectable so
the arithmetic is tested without a cgroup.
"""

from __future__ import annotations

import os
import pathlib
import resource
import time
from collections.abc import Callable

CGROUP = pathlib.Path("/sys/fs/cgroup")


def _read(path: pathlib.Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class ResourceSampler:
    """Samples CPU (since the previous sample) and memory usage, in percent."""

    def __init__(
        self,
        *,
        read: Callable[[pathlib.Path], str | None] = _read,
        clock: Callable[[], float] = time.monotonic,
        cpu_time: Callable[[], float] = time.process_time,
        cpu_count: int | None = None,
        cgroup: pathlib.Path = CGROUP,
    ) -> None:
        self._read = read
        self._clock = clock
        self._cpu_time = cpu_time
        self._cpus = cpu_count or os.cpu_count() or 1
        self._cgroup = cgroup
        self._last_wall = clock()
        self._last_cpu = self._cpu_seconds()

    def _cgroup_limit_cpus(self) -> float | None:
        raw = self._read(self._cgroup / "cpu.max")
        if not raw:
            return None
        quota, _, period = raw.partition(" ")
        if quota == "max" or not period:
            return None
        try:
            return int(quota) / int(period)
        except (ValueError, ZeroDivisionError):
            return None

    def _cpu_seconds(self) -> float:
        raw = self._read(self._cgroup / "cpu.stat")
        if raw:
            for line in raw.splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec" and value.isdigit():
                    return int(value) / 1_000_000
        return self._cpu_time()

    def cpu_percent(self) -> float:
        """CPU used since the last call, relative to the CPUs available (0..100)."""
        wall, cpu = self._clock(), self._cpu_seconds()
        elapsed = wall - self._last_wall
        used = cpu - self._last_cpu
        self._last_wall, self._last_cpu = wall, cpu
        if elapsed <= 0:
            return 0.0
        cpus = self._cgroup_limit_cpus() or self._cpus
        return max(0.0, min(100.0, 100.0 * used / (elapsed * cpus)))

    def memory_percent(self) -> float:
        """Memory in use relative to the limit (the cgroup's, else the machine's) (0..100)."""
        current = self._read(self._cgroup / "memory.current")
        limit = self._read(self._cgroup / "memory.max")
        if current and current.isdigit() and limit and limit.isdigit() and int(limit) > 0:
            return min(100.0, 100.0 * int(current) / int(limit))
        rss = self._process_rss()
        total = self._machine_memory()
        return min(100.0, 100.0 * rss / total) if total and rss is not None else 0.0

    def _process_rss(self) -> int | None:
        statm = self._read(pathlib.Path("/proc/self/statm"))
        parts = statm.split() if statm else []
        if len(parts) >= 2 and parts[1].isdigit():
            return int(parts[1]) * resource.getpagesize()
        return None

    def _machine_memory(self) -> int | None:
        meminfo = self._read(pathlib.Path("/proc/meminfo"))
        if not meminfo:
            return None
        for line in meminfo.splitlines():
            if line.startswith("MemTotal:"):
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    return int(parts[1]) * 1024
        return None
