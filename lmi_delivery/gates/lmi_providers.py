"""LMI013: a capacity provider the plan deletes (or replaces) while versions are bound to it.

AWS refuses ``DeleteCapacityProvider`` while any function version still references the
provider ("To delete this capacity provider, first remove its association…"), and published
versions keep the association after their function moved to another provider: the apply
would fail half-way. The plan build can read AWS, so the gate lists the bound versions
(``ListFunctionVersionsByCapacityProvider``, through the Lambda client the build hands in:
:func:`lambda_lister`) and refuses at plan time, naming them and the command that retires
them. Versions of functions the same plan deletes do not count (deleting a function deletes
its versions). Without AWS access (``gates validate`` on a laptop) the finding is advisory: it
warns, naming the same command, and does not block; so does a listing AWS refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from lmi_delivery.findings import Finding
from lmi_delivery.gates.plan_json import Plan, Resource
from lmi_delivery.gates.rules import finding

PAGE_SIZE = 50
SHOWN = 10
AWS_MESSAGE = "To delete this capacity provider, first remove its association"


class BoundVersion(NamedTuple):
    function: str
    version: str
    state: str = "Active"

    def __str__(self) -> str:
        return f"{self.function}:{self.version}"


class ListingFailed(Exception):
    """The bound versions could not be listed (the reason is the message)."""


BoundVersions = Callable[[str], Sequence[BoundVersion]]
"""Capacity provider name → the function versions bound to it (raises :class:`ListingFailed`)."""


def lambda_lister(client: Any) -> BoundVersions:
    """:data:`BoundVersions` through an injected Lambda client (every page of 50 read)."""

    def bound(name: str) -> list[BoundVersion]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[BoundVersion] = []
        marker: str | None = None
        try:
            while True:
                page = client.list_function_versions_by_capacity_provider(
                    CapacityProviderName=name, MaxItems=PAGE_SIZE,
                    **({"Marker": marker} if marker else {}))
                for item in page.get("FunctionVersions") or ():
                    arn = str(item.get("FunctionArn", ""))
                    parts = arn.split(":")
                    function = parts[6] if len(parts) > 6 else arn
                    version = parts[7] if len(parts) > 7 else "$LATEST"
                    found.append(BoundVersion(function, version, str(item.get("State") or "")))
                marker = page.get("NextMarker")
                if not marker:
                    return found
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            if error.get("Code") == "ResourceNotFoundException":
                return []
            raise ListingFailed(f"ListFunctionVersionsByCapacityProvider failed: "
                                f"{error.get('Code') or exc}") from None
        except BotoCoreError as exc:
            raise ListingFailed(f"ListFunctionVersionsByCapacityProvider failed: {exc}") \
                from None

    return bound


def check(plan: Plan, bound: BoundVersions | None, command: str) -> list[Finding]:
    deleted = {str(c.before.get("function_name")) for c in plan.changes("aws_lambda_function")
               if c.before and "delete" in c.actions and c.before.get("function_name")}
    found: list[Finding] = []
    for provider in plan.changes("aws_lambda_capacity_provider"):
        if provider.mode == "managed" and "delete" in provider.actions and provider.before:
            found += _check_one(provider, bound, command, deleted)
    return found


def _name(provider: Resource) -> str:
    before = provider.before or {}
    name = before.get("name")
    if isinstance(name, str) and name:
        return name
    arn = str(before.get("arn") or "")
    return arn.rsplit(":", 1)[-1]


def _check_one(provider: Resource, bound: BoundVersions | None, command: str,
               deleted: set[str]) -> Iterator[Finding]:
    name = _name(provider)
    if not name:
        return
    what = "replaces" if "create" in provider.actions else "deletes"
    retire = command.format(name=name)
    if bound is None:
        yield finding("LMI013", provider.address, f"the plan {what} capacity provider {name}; "
                      "AWS refuses while function versions are bound to it, and they cannot be "
                      f"listed here (no AWS access): if the apply fails, run `{retire}`",
                      advisory=True)
        return
    try:
        versions = list(bound(name))
    except ListingFailed as exc:
        yield finding("LMI013", provider.address, f"the plan {what} capacity provider {name}; "
                      f"the versions bound to it could not be listed ({exc}): if the apply "
                      f"fails, run `{retire}`", advisory=True)
        return
    remaining = [v for v in versions if v.function not in deleted]
    if not remaining:
        return
    shown = ", ".join(str(v) for v in remaining[:SHOWN])
    more = f" and {len(remaining) - SHOWN} more" if len(remaining) > SHOWN else ""
    yield finding("LMI013", provider.address, f"the plan {what} capacity provider {name}, but "
                  f"{len(remaining)} function version(s) are still bound to it ({shown}{more}): "
                  f'AWS refuses to delete it ("{AWS_MESSAGE}"). Run `{retire}`, then plan '
                  "again")
