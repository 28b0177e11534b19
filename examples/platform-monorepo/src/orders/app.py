def handler(event, context):
    return {"service": "orders"}
