"""The apply build of one Terraform root applies only a plan build started for that root."""

from __future__ import annotations

from lmi_delivery.terraform.binding import PlanBuildRecord, PlanClaim, problems

SHA = "ab" * 32
COMMIT = "c" * 40


def record(**variables: str) -> PlanBuildRecord:
    return PlanBuildRecord(
        "platform-dev-tf-plan:1", "platform-dev-tf-plan", "SUCCEEDED", COMMIT,
        {"LMI_DELIVERY_MODE": "deploy", "LMI_DELIVERY_EVENT": "push", **variables},
        {"LMI_PLAN_SHA256": SHA, "LMI_PLAN_KIND": "deploy"})


CLAIM = PlanClaim("platform-dev-tf-plan:1", SHA)


def check(plan: PlanBuildRecord, root: str) -> list[str]:
    return problems(plan, CLAIM, project="platform-dev-tf-plan", commit=COMMIT, root=root)


def test_a_plan_build_of_the_same_root_vouches_for_the_apply() -> None:
    assert check(record(LMI_DELIVERY_ROOT="orders"), "orders") == []
    assert check(record(), "") == []


def test_a_plan_build_of_another_root_does_not() -> None:
    assert check(record(LMI_DELIVERY_ROOT="provider"), "orders") == [
        "it planned Terraform root provider, not orders"]


def test_the_one_root_form_and_a_root_never_vouch_for_each_other() -> None:
    assert check(record(LMI_DELIVERY_ROOT="orders"), "") == [
        "it planned Terraform root orders, not (the only one)"]
    assert check(record(), "orders") == ["it planned Terraform root (the only one), not orders"]
