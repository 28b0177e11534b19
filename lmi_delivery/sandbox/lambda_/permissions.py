"""AddPermission refuses a statement id that the function's policy already holds.

AWS answers a duplicate ``StatementId`` with HTTP 409 ``ResourceConflictException``
(AWS-FACTS.md); moto appends a second statement of the same id.
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.extension import Handler, LambdaOperations, json_body, split_function
from lmi_delivery.sandbox.protocol import Call
from lmi_delivery.sandbox.state import conflict, moto_function


class PermissionOperations(LambdaOperations):
    def handlers(self) -> Mapping[str, Handler]:
        return {"AddPermission": self.add_permission}

    def add_permission(self, request: Request, call: Call) -> Response:
        name, qualifier = split_function(call.params["FunctionName"])
        qualifier = request.args.get("Qualifier") or qualifier
        sid = str(json_body(request).get("StatementId") or "")
        function = moto_function(call.region, name, qualifier)
        if any(statement.get("Sid") == sid for statement in function.policy.statements):
            raise conflict(f"The statement id ({sid}) provided already exists. Please provide a "
                           "new statement id, or remove the existing statement.")
        return self.forward(request, None)
