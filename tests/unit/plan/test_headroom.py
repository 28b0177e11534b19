"""The cutover's peak against the provider (pure), and the new version's minimum."""

from __future__ import annotations

import pytest

from lmi_delivery.plan.headroom import FunctionCutover, cutover_peak, new_minimum


def test_the_peak_is_both_versions_environments_times_vcpus_per_environment() -> None:
    # By hand: 8192 MB at 4 GiB per vCPU is 8 / 4 = 2 vCPU an environment; 5 live + 6 new
    # environments: 11 x 2 = 22 vCPU. 2048 MB at 2 GiB per vCPU: 1 vCPU; (3 + 3) x 1 = 6.
    big = FunctionCutover("a", live_environments=5, new_minimum=6, memory_mb=8192,
                          gib_per_vcpu=4)
    small = FunctionCutover("b", live_environments=3, new_minimum=3, memory_mb=2048)
    assert big.vcpus_per_environment == 2
    assert big.peak_vcpus == 22
    assert small.peak_vcpus == 6
    peak = cutover_peak("p", [big, small], 28)
    assert peak.peak_vcpus == 28
    assert peak.fits, "equal to MaxVCpuCount fits"
    assert not cutover_peak("p", [big, small], 27).fits
    assert cutover_peak("p", [big, small], None).fits, "no MaxVCpuCount: nothing to compare"
    assert peak.describe() == (
        "cutover peak on p: 28 vCPU against MaxVCpuCount 28: fits (a: (5 live + 6 new) x 2 vCPU "
        "(8192 MB at 4 GiB/vCPU) = 22 vCPU; b: (3 live + 3 new) x 1 vCPU (2048 MB at 2 GiB/vCPU)"
        " = 6 vCPU)")


def test_a_fraction_of_a_vcpu_is_kept_exact_enough() -> None:
    # 3072 MB at 8 GiB per vCPU: 3 / 8 = 0.375 vCPU an environment; 8 environments: 3 vCPU.
    assert FunctionCutover("f", 4, 4, 3072, 8).peak_vcpus == 3


@pytest.mark.parametrize(("minimum", "maximum", "live", "expected"), [
    (2, 8, 4, 4),     # raised to the live version's applied environments
    (5, 8, 3, 5),     # the configured minimum is already more
    (2, 3, 6, 3),     # capped by max
    (2, 8, None, 2),  # no live version: the configured minimum
    (0, 0, 3, 0),     # 0/0 stays 0/0
])
def test_the_new_minimum_matches_the_live_version_up_to_max(
        minimum: int, maximum: int, live: int | None, expected: int) -> None:
    assert new_minimum(minimum, maximum, live) == expected
