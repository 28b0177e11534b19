"""Policy evaluation: moto's IAM access control, with the condition operators the plane uses.

moto's :class:`~moto.iam.access_control.IAMPolicyStatement` matches actions and resources;
its conditions know only ``StringEquals`` (any other operator passes), a failed condition counts
as a deny whatever the statement's effect, and it has no ``Service`` or ``Federated``
principals. Here a statement whose principal or conditions do not match simply does not apply
(as IAM evaluates), and conditions are evaluated with the operators of :data:`OPERATORS` and
``Null`` (``...IfExists`` and the ``ForAnyValue:`` / ``ForAllValues:`` set forms included); a
condition with another operator never holds: such an Allow grants nothing, such a Deny denies
nothing.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult

#: Condition key → the request's values of it (several for multi-valued keys).
Context = Mapping[str, tuple[str, ...]]

Matcher = Callable[[str, str], bool]
#: Who asks, as a resource or trust policy names it: ``("AWS", arn)``, ``("Service", name)``,
#: ``("Federated", provider arn)``.
Principal = tuple[str, str]


def _like(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _bool(value: str, expected: str) -> bool:
    return value.lower() == expected.lower()


#: Operator → (does one value match one expected value, is the operator negated).
OPERATORS: dict[str, tuple[Matcher, bool]] = {
    "StringEquals": (lambda v, e: v == e, False),
    "StringNotEquals": (lambda v, e: v == e, True),
    "StringEqualsIgnoreCase": (lambda v, e: v.lower() == e.lower(), False),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (lambda v, e: v == e, False),
    "ArnLike": (_like, False),
    "ArnNotEquals": (lambda v, e: v == e, True),
    "ArnNotLike": (_like, True),
    "Bool": (_bool, False),
}


def _expected(values: Any) -> tuple[str, ...]:
    items = values if isinstance(values, list) else [values]
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in items)


def condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """Whether one ``{operator: {key: expected}}`` entry holds for the request's context."""
    wanted = _expected(expected)
    actual = context.get(key, ())
    if operator == "Null":
        return (not actual) == (wanted[0].lower() == "true")
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in OPERATORS:
        return False
    match, negated = OPERATORS[name]
    if not actual:
        return if_exists or negated or qualifier == "ForAllValues"

    def one(value: str) -> bool:
        hit = any(match(value, e) for e in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Context) -> bool:
    return all(condition_holds(op, key, expected, context)
               for op, entries in (conditions or {}).items()
               for key, expected in entries.items())


def principal_matches(named: Any, principal: Principal) -> bool:
    """Whether a statement's ``Principal`` names ``principal`` (``"*"`` names anyone; no
    ``Principal`` at all, as in identity policies, names the caller)."""
    if named is None or named == "*":
        return True
    if not isinstance(named, Mapping):
        return False
    values = named.get(principal[0], ())
    values = [values] if isinstance(values, str) else list(values)
    return "*" in values or principal[1] in values


class Statement(IAMPolicyStatement):
    """One statement; conditions read from the request's context."""

    def __init__(self, statement: Any, context: Context) -> None:
        super().__init__(statement)
        self._context = context

    def _check_conditions(self, incoming_condition_values: Any) -> bool:
        return True  # checked by evaluate, before moto matches the rest


    def evaluate(self, action: str, resource: str,
                 principal: Principal | None) -> PermissionResult:
        if principal is not None and not principal_matches(self._statement.get("Principal"),
                                                           principal):
            return PermissionResult.NEUTRAL
        if not conditions_hold(self._statement.get("Condition"), self._context):
            return PermissionResult.NEUTRAL  # a statement whose conditions fail does not apply
        result = self.is_action_permitted(action, resource)
        if result is PermissionResult.DENIED and self._statement.get("Effect") != "Deny":
            return PermissionResult.NEUTRAL  # an Allow that does not apply grants nothing
        return result


class Policy(IAMPolicy):
    """One policy document (a moto ``Policy``, an inline document, or its JSON text)."""

    def __init__(self, policy: Any) -> None:
        if isinstance(policy, Mapping) and "Statement" in policy:
            policy = json.dumps(policy)
        super().__init__(policy)

    def statements(self) -> list[Any]:
        found = self._policy_json.get("Statement", [])
        return found if isinstance(found, list) else [found]

    def evaluate(self, action: str, resource: str, context: Context,
                 principal: Principal | None = None) -> PermissionResult:
        permitted = False
        for raw in self.statements():
            result = Statement(raw, context).evaluate(action, resource, principal)
            if result is PermissionResult.DENIED:
                return result
            permitted = permitted or result is PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def evaluate(policies: Iterable[Any], action: str, resource: str, context: Context,
             principal: Principal | None = None) -> PermissionResult:
    """Deny wins over allow; no allow is an implicit deny (NEUTRAL)."""
    permitted = False
    for policy in policies:
        result = Policy(policy).evaluate(action, resource, context, principal)
        if result is PermissionResult.DENIED:
            return result
        permitted = permitted or result is PermissionResult.PERMITTED
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL
