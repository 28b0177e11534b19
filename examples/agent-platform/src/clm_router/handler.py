"""The clm-router function: routes a request to the model backend named in it."""

import json
import os


def is_warmup(event):
    """lmi-delivery's warm-up payload, {"lmi-delivery": {"warmup": true, ...}}: the post-deploy
    warm step and its scheduled EventBridge rule send it (lmi_delivery.warmup.is_warmup, which
    imports nothing, may be vendored instead)."""
    marker = event.get("lmi-delivery") if isinstance(event, dict) else None
    return isinstance(marker, dict) and marker.get("warmup") is True


def handler(event, context):
    if is_warmup(event):
        return {"warmup": True}
    backend = (event or {}).get("backend", "default")
    return {
        "statusCode": 200,
        "body": json.dumps({"service": os.environ.get("SERVICE"), "backend": backend}),
    }
