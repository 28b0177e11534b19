"""The capacity a cutover needs at its peak, against what the capacity provider may hold. Pure.

While traffic moves, both versions of a function hold execution environments: the live one its
applied environments, the new one its minimum. So the peak of a cutover on one capacity
provider is, over the functions it moves there,

    (live environments + new version's minimum) x vCPUs per environment

where an environment has ``MemorySize / 1024`` GiB of memory and
``ExecutionEnvironmentMemoryGiBPerVCpu`` GiB of it per vCPU. The peak is compared with the
provider's ``MaxVCpuCount``. Only the functions of the cutover are counted: environments other
functions hold on the same provider take from the same room, so the figure is a lower bound of
what the provider needs. The post-deploy gate, ``lmi-delivery plan`` and the PR comment all use
:func:`cutover_peak`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Execution environments a published LMI version starts when no scaling config says otherwise.
DEFAULT_ENVIRONMENTS = 3
#: ``ExecutionEnvironmentMemoryGiBPerVCpu`` when a function does not set it (AWS's default, 2:1).
DEFAULT_GIB_PER_VCPU = 2.0


@dataclass(frozen=True)
class FunctionCutover:
    """What one function's cutover holds at its peak."""

    function: str
    live_environments: int
    """Environments the version the alias routes to has applied (0 when there is no alias)."""
    new_minimum: int
    """The new version's minimum once scaled."""
    memory_mb: int
    gib_per_vcpu: float = DEFAULT_GIB_PER_VCPU

    @property
    def vcpus_per_environment(self) -> float:
        return self.memory_mb / 1024 / self.gib_per_vcpu

    @property
    def peak_vcpus(self) -> float:
        return (self.live_environments + self.new_minimum) * self.vcpus_per_environment

    def describe(self) -> str:
        return (f"{self.function}: ({self.live_environments} live + {self.new_minimum} new) "
                f"x {self.vcpus_per_environment:g} vCPU ({self.memory_mb} MB at "
                f"{self.gib_per_vcpu:g} GiB/vCPU) = {self.peak_vcpus:g} vCPU")


@dataclass(frozen=True)
class CutoverPeak:
    """The peak of a cutover on one capacity provider, and whether it fits."""

    capacity_provider: str
    functions: tuple[FunctionCutover, ...]
    max_vcpus: int | None
    """The provider's ``MaxVCpuCount``; ``None`` when it sets none (nothing to compare)."""

    @property
    def peak_vcpus(self) -> float:
        return sum(f.peak_vcpus for f in self.functions)

    @property
    def fits(self) -> bool:
        return self.max_vcpus is None or self.peak_vcpus <= self.max_vcpus

    def describe(self) -> str:
        limit = (f"MaxVCpuCount {self.max_vcpus}" if self.max_vcpus is not None
                 else "no MaxVCpuCount set")
        verdict = "fits" if self.fits else "does NOT fit"
        parts = "; ".join(f.describe() for f in self.functions)
        return (f"cutover peak on {self.capacity_provider}: {self.peak_vcpus:g} vCPU against "
                f"{limit}: {verdict} ({parts})")


def cutover_peak(capacity_provider: str, functions: Iterable[FunctionCutover],
                 max_vcpus: int | None) -> CutoverPeak:
    """The peak of moving ``functions`` to their new versions on ``capacity_provider``."""
    return CutoverPeak(capacity_provider, tuple(functions), max_vcpus)


def new_minimum(configured_min: int, configured_max: int, live_environments: int | None) -> int:
    """The new version's minimum: at least the live version's applied environments (when there
    is a live version), capped by ``configured_max``."""
    wanted = max(configured_min, live_environments or 0)
    return min(wanted, configured_max)
