"""``AccessDenied`` as each service answers it.

Lambda (REST JSON): HTTP 403 ``AccessDeniedException``; JSON-target services (CodeBuild,
CloudWatch Logs, EventBridge, KMS, SSM, Secrets Manager): HTTP 400 ``AccessDeniedException``;
S3: HTTP 403 ``<Error><Code>AccessDenied</Code>``; query services (IAM, STS, CloudFormation,
CloudWatch): HTTP 403 ``<ErrorResponse>`` with ``AccessDenied``. The message is AWS's: who, which
action, which resource, and why.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from lmi_delivery.sandbox.protocol import Call, json_response, lambda_error


def message(principal: str, action: str, resource: str, deny: str | None) -> str:
    """AWS's wording; ``deny`` is ``identity-based`` or ``resource-based`` for an explicit deny,
    None when no policy allows the action."""
    why = (f"with an explicit deny in a {deny} policy" if deny
           else f"because no identity-based policy allows the {action} action")
    return (f"User: {principal} is not authorized to perform: {action} on resource: "
            f"{resource} {why}")


def access_denied(call: Call, request: Request, text: str) -> Response:
    request_id = str(uuid.uuid4())
    if call.service == "lambda":
        return lambda_error(403, "AccessDeniedException", text)
    if request.headers.get("X-Amz-Target"):
        return json_response({"__type": "AccessDeniedException", "message": text}, 400,
                             {"x-amzn-ErrorType": "AccessDeniedException"})
    if call.service == "s3":
        xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
               f"<Message>{escape(text)}</Message><RequestId>{request_id}</RequestId></Error>")
        return Response(xml, status=403, content_type="application/xml",
                        headers={"x-amz-request-id": request_id})
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
           f"<Message>{escape(text)}</Message></Error><RequestId>{request_id}</RequestId>"
           "</ErrorResponse>")
    return Response(xml, status=403, content_type="text/xml",
                    headers={"x-amzn-RequestId": request_id})
