"""The clm-router function: routes a request to the model backend named in it."""

import json
import os

WARM_MARKER = "lmi-delivery-warm"


def handler(event, context):
    if isinstance(event, dict) and event.get(WARM_MARKER):
        return {"warm": True}
    backend = (event or {}).get("backend", "default")
    return {
        "statusCode": 200,
        "body": json.dumps({"service": os.environ.get("SERVICE"), "backend": backend}),
    }
