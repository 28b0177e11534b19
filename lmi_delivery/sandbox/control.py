"""Control endpoints for tests and demos, beside the AWS API (no signature needed).

- ``GET  /_sandbox/health`` -> ``{"status": "ok", "region": ...}``
- ``POST /_sandbox/reset`` -> clears moto and the sandbox state
- ``GET  /_sandbox/invocations[?FunctionName=F]`` -> ``{"Invocations": [...]}``
- ``POST /_sandbox/fail-next-publish`` with ``{"FunctionName", "ReasonCode", "Reason"?,
  "Region"?}`` -> the next publish of that function ends ``Failed``
- ``GET  /_sandbox/rate-limit`` -> ``{"Admissions": [...]}``: when the Lambda rate limit admitted
  each control-plane call (monotonic seconds of the sandbox's process)
- ``GET  /_sandbox/codesuite/codebuild/projects/P/build/ID/log`` -> the build's log as text
  (the sandbox's stand-in for the console link the CodeBuild orchestrator prints)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import unquote

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
        if route == ("GET", "rate-limit"):
            return json_response({"Admissions": self.sandbox.rate_limit_admissions()})
        if route == ("GET", "requests"):
            entries = self.sandbox.requests(request.args.get("Service"))
            return json_response({"Requests": [e.to_json() for e in entries]})
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
        parts = route[1].split("/")
        if request.method == "GET" and len(parts) == 7 and parts[:3] == [
                "codesuite", "codebuild", "projects"] and parts[4] == "build" and parts[6] == "log":
            return self._build_log(unquote(parts[3]), unquote(parts[5]))
        return json_response({"message": f"no control endpoint {request.method} "
                                         f"{request.path}"}, 404)

    def _build_log(self, project: str, build_id: str) -> Response:
        logs = self.sandbox.client("logs", internal=True)
        stream = build_id.split(":", 1)[-1]
        lines: list[str] = []
        token: str | None = None
        try:
            while True:
                extra = {"nextToken": token} if token else {}
                page = logs.get_log_events(logGroupName=f"/aws/codebuild/{project}",
                                           logStreamName=stream, startFromHead=True, **extra)
                lines += [e["message"].rstrip("\n") for e in page["events"]]
                if page.get("nextForwardToken") in (None, token):
                    break
                token = page["nextForwardToken"]
        except logs.exceptions.ResourceNotFoundException:
            return json_response({"message": f"no log for build {build_id}"}, 404)
        return Response("\n".join(lines) + "\n", mimetype="text/plain")
