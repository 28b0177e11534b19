"""boto3 clients pointed at a sandbox, with fake credentials passed in (never os.environ)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.config import Config as BotoConfig

from lmi_delivery.aws.clients import shared_model_session
from lmi_delivery.sandbox.protocol import INTERNAL_HEADER

if TYPE_CHECKING:
    from lmi_delivery.sandbox.server import Sandbox

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                    "aws_session_token": "testing"}


def client(sandbox: Sandbox, service: str, *, region: str | None = None,
           max_attempts: int = 1, internal: bool = False, **config: Any) -> Any:
    """A boto3 client for ``sandbox``; ``internal`` skips faults, latency and the rate limit.

    ``max_attempts`` counts every attempt (botocore's ``total_max_attempts``): 1 = no retry.
    """
    session = shared_model_session(
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        aws_session_token=FAKE_CREDENTIALS["aws_session_token"],
        region_name=region or sandbox.region,
    )
    factory: Any = session.client  # typed per service literal; the name here is a plain str
    made = factory(
        service, endpoint_url=sandbox.endpoint_url,
        config=BotoConfig(retries={"mode": "standard", "total_max_attempts": max_attempts},
                          **config),
    )
    if internal:
        def mark(request: Any, **_: Any) -> None:
            request.headers[INTERNAL_HEADER] = "1"

        made.meta.events.register_first("before-sign", mark)
    return made
