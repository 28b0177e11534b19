"""Control endpoints for tests and demos, beside the AWS API (no signature needed).

- ``GET  /_sandbox/health`` -> ``{"status": "ok", "region": ...}``
- ``POST /_sandbox/reset`` -> clears moto and the sandbox state
- ``GET  /_sandbox/invocations[?FunctionName=F]`` -> ``{"Invocations": [...]}``
- ``POST /_sandbox/fail-next-publish`` with ``{"FunctionName", "ReasonCode", "Reason"?,
  "Region"?}`` -> the next publish of that function ends ``Failed``
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.protocol import json_response

if TYPE_CHECKING:
    from lmi_delivery.sandbox.server import Sandbox


class Control:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, request: Request) -> Response:
        route = (request.method, request.path.removeprefix("/_sandbox/").strip("/"))
        if route == ("GET", "health"):
            return json_response({"status": "ok", "region": self.sandbox.region})
        if route == ("POST", "reset"):
            self.sandbox.reset()
            return json_response({"status": "reset"})
        if route == ("GET", "invocations"):
            found = self.sandbox.invocations(request.args.get("FunctionName"))
            return json_response({"Invocations": [i.to_json() for i in found]})
        if route == ("POST", "fail-next-publish"):
            try:
                body = json.loads(request.get_data(as_text=True) or "{}")
                self.sandbox.fail_next_publish(
                    str(body["FunctionName"]), str(body["ReasonCode"]),
                    reason=body.get("Reason"), region=body.get("Region"))
            except (ValueError, KeyError, TypeError) as error:
                return json_response({"message": f"bad request: {error}"}, 400)
            return json_response({"status": "armed"})
        return json_response({"message": f"no control endpoint {request.method} "
                                         f"{request.path}"}, 404)
