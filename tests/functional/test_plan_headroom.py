"""`lmi-delivery plan` shows the cutover's capacity headroom when it can read AWS (the sandbox),
and says it could not when it plans offline."""

from __future__ import annotations

import json

from test_plan_live_state import QUICKSTART, plan

from lmi_delivery.config import load
from lmi_delivery.plan.headroom import FunctionCutover, cutover_peak
from lmi_delivery.sandbox.server import Sandbox

ROUTER = "quickstart-dev-router"
PROVIDER = "quickstart-dev-shared"


def test_plan_shows_the_cutover_peak_against_the_provider(sandbox: Sandbox) -> None:
    sandbox.seed_from_config(load(QUICKSTART), ["dev"])
    lam = sandbox.client("lambda")
    version = lam.publish_version(FunctionName=ROUTER)["Version"]
    lam.create_alias(FunctionName=ROUTER, Name="live", FunctionVersion=version)
    lam.update_capacity_provider(CapacityProviderName=PROVIDER,
                                 CapacityProviderScalingConfig={"MaxVCpuCount": 5})
    sandbox.clear_requests()

    result = plan(sandbox)

    assert result.returncode == 0, result.stderr
    # By hand: the live version has no scaling config, so it runs the default 3 environments;
    # scaling min 1, max 4 gives the new version max(1, 3) = 3; 2048 MB at 2 GiB per vCPU is
    # 1 vCPU an environment: (3 + 3) x 1 = 6 vCPU, over MaxVCpuCount 5.
    expected = cutover_peak(PROVIDER, [FunctionCutover(ROUTER, 3, 3, 2048)], 5)
    assert expected.peak_vcpus == 6
    assert not expected.fits
    assert (f"cutover peak on {PROVIDER}: 6 vCPU against MaxVCpuCount 5: does NOT fit "
            f"({ROUTER}: (3 live + 3 new) x 1 vCPU (2048 MB at 2 GiB/vCPU) = 6 vCPU)"
            in result.stdout)
    assert "read current aliases from AWS (read-only) and the capacity headroom" in result.stdout
    assert all(e.operation.startswith(("Get", "List")) for e in sandbox.requests("lambda"))

    shown = json.loads(plan(sandbox, "--format", "json").stdout)
    [check] = [s for stage in shown["stages"] for s in stage["steps"] if s["kind"] == "headroom"]
    assert check["peak"] == expected.describe()
    assert shown["capacity"] == {PROVIDER: expected.describe()}

    # A pull request's review runs no post-deploy, yet shows what the merge's deploy will need.
    review = plan(sandbox, "--event", "pull_request", "--base-ref", "dev")
    assert review.returncode == 0, review.stderr
    assert "post-deploy  skipped" in review.stdout
    assert f"cutover: {expected.describe()}" in review.stdout
    markdown = plan(sandbox, "--event", "pull_request", "--base-ref", "dev", "--format",
                    "markdown").stdout
    assert f"#### Capacity at the cutover\n\n- `{expected.describe()}`" in markdown


def test_an_offline_plan_says_it_could_not_read_the_peak(sandbox: Sandbox) -> None:
    result = plan(sandbox, "--offline")

    assert result.returncode == 0, result.stderr
    assert (f"check capacity provider {PROVIDER} holds the cutover peak of {ROUTER}"
            in result.stdout)
    assert "the peak is read at run time (not read here)" in result.stdout
    assert "cutover:" not in result.stdout
