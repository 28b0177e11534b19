"""The AWS edge: everything lmi-delivery knows about reaching AWS, and nothing else.

It owns the settings read once from the environment mapping the CLI hands in (``clients``:
region, endpoint, credentials, role, retries), the one client factory every command builds its
botocore clients through, the pacing of Lambda clients (``pacing``) by the rate budget all of them
of one account and region share in a process (``budget``), and the one translator that turns any
botocore error into an :class:`~lmi_delivery.errors.AwsError` naming the operation, the error
code and AWS's message (``errors``). It never decides anything about a delivery: which calls to
make, and what a refusal means for a step, belong to the callers. It reads its settings only from
the environment mapping the edge hands in (botocore's own credential chain aside, when the
mapping names no keys), never prints credentials, and imports botocore only when a client is first
built, so importing it keeps the CLI fast (boto3 is never imported).
"""
