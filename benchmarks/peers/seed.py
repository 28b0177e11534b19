"""The seed platform's pruner, as the seed describes it, in Python with boto3's standard retries.

For one target capacity provider: list every function of the account; keep those whose
``$LATEST`` is on the target provider; for each, list its aliases and its versions; keep the
``keep`` newest versions and those an alias points to (its ``FunctionVersion``); delete the
rest one by one. What the description leaves open is decided the plain way: the calls run one
after another, pages are followed, and an error of one deletion is reported and the run goes on
(a refused deletion does not stop the versions after it). boto3's ``standard`` retry mode (3
attempts, its own backoff) is the only retry.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from peers import Outcome

THROTTLE_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "Throttling"})


def pages(call: Any, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    marker = None
    while True:
        page = call(**params, **({"Marker": marker} if marker else {}))
        yield from page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return


def provider_of(function: dict[str, Any]) -> str | None:
    config = (function.get("CapacityProviderConfig") or {}).get(
        "LambdaManagedInstancesCapacityProviderConfig") or {}
    arn = config.get("CapacityProviderArn")
    return None if arn is None else str(arn)


def prune_provider(lam: Any, provider_arn: str, keep: int) -> tuple[int, list[str]]:
    """Prune the functions on one provider; (throttles surfaced, other errors)."""
    throttles, errors = 0, []
    functions = [f["FunctionName"] for f in pages(lam.list_functions, "Functions")
                 if provider_of(f) == provider_arn]
    for name in functions:
        aliased = {a["FunctionVersion"] for a in pages(lam.list_aliases, "Aliases",
                                                        FunctionName=name)}
        numbered = sorted((int(v["Version"]) for v in pages(
            lam.list_versions_by_function, "Versions", FunctionName=name)
            if str(v["Version"]).isdigit()), reverse=True)
        for number in numbered[keep:]:
            if str(number) in aliased:
                continue
            try:
                lam.delete_function(FunctionName=name, Qualifier=str(number))
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                if code in THROTTLE_CODES:
                    throttles += 1
                else:
                    errors.append(f"{name}:{number} {code}: {error}")
    return throttles, errors


def prune(lam: Any, provider_arns: Iterable[str], keep: int) -> Outcome:
    """Run the pruner for each target provider in turn, as one run per provider would."""
    started = time.monotonic()
    throttles, errors = 0, []
    for arn in provider_arns:
        try:
            found, failed = prune_provider(lam, arn, keep)
        except ClientError as error:  # a listing that outlived the retries ends this run
            code = str(error.response.get("Error", {}).get("Code", ""))
            found, failed = (1, []) if code in THROTTLE_CODES else (0, [f"{arn}: {error}"])
        throttles += found
        errors += failed
    return Outcome(time.monotonic() - started, throttles, tuple(errors))
