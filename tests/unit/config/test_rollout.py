"""``functions.<f>.rollout`` and the deprecated ``canary:``, as the typed model reads them."""

from __future__ import annotations

import pytest
from config_helpers import BASE, WriteConfig

from lmi_delivery.config import load
from lmi_delivery.config.model import Rollout


def rollout_of(write_config: WriteConfig, extra: str) -> Rollout:
    return load(write_config(BASE + extra)).functions["router"].rollout


def test_no_rollout_is_all_at_once(write_config: WriteConfig) -> None:
    rollout = rollout_of(write_config, "")
    assert rollout == Rollout()
    assert rollout.weights() == ()


def test_a_canary_rollout(write_config: WriteConfig) -> None:
    rollout = rollout_of(write_config, "    rollout:\n      canary: {weight: 0.2, bake_minutes: 3}"
                                       "\n      bake_minutes: 2\n      alarms: [errors]\n"
                                       "      pre_traffic: smoke\n")
    assert (rollout.strategy, rollout.weights(), rollout.interval_minutes) == (
        "canary", (0.2,), 3.0)
    assert (rollout.bake_minutes, rollout.alarms, rollout.pre_traffic) == (2.0, ("errors",),
                                                                          "smoke")


@pytest.mark.parametrize(("step", "weights"), [
    (0.25, (0.25, 0.5, 0.75)), (0.3, (0.3, 0.6, 0.9)), (0.5, (0.5,)), (1, ()),
])
def test_a_linear_rollout_adds_step_until_all(write_config: WriteConfig, step: float,
                                              weights: tuple[float, ...]) -> None:
    rollout = rollout_of(write_config, f"    rollout:\n      linear: {{step: {step}, "
                                       "every_minutes: 2}\n")
    assert (rollout.strategy, rollout.weights(), rollout.interval_minutes) == (
        "linear", weights, 2.0)


def test_the_deprecated_canary_is_read_as_a_canary_rollout(write_config: WriteConfig) -> None:
    function = load(write_config(BASE + "    canary: {weight: 0.3, minutes: 4, alarms: [a]}\n")
                    ).functions["router"]
    assert function.rollout == Rollout(strategy="canary", weight=0.3, interval_minutes=4.0,
                                       alarms=("a",))


def test_the_floor_defaults_to_one_or_zero_for_a_deactivated_function(
        write_config: WriteConfig) -> None:
    for scaling, floor in (("{min: 1, max: 4}", 1), ("{min: 0, max: 0}", 0),
                           ("{min: 1, max: 4, floor: 0}", 0), ("{min: 3, max: 4, floor: 2}", 2)):
        found = load(write_config(BASE.replace("{min: 1, max: 4}", scaling))
                     ).functions["router"].scaling
        assert found is not None
        assert found.superseded_min == floor, scaling
