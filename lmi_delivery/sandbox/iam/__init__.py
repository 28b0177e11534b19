"""IAM enforcement in the sandbox (``SandboxOptions(iam=True)``, ``sandbox serve --iam``).

Every AWS call is authorized against its caller's IAM policies before any extension or moto
answers it: :mod:`.principal` finds the caller from the request's access key, :mod:`.actions`
says which IAM action on which resource ARN the call is (with its condition keys),
:mod:`.policy` evaluates the documents with moto's IAM access control, and :mod:`.denied`
answers ``AccessDenied`` in each service's own error shape. :mod:`.webidentity` checks
``AssumeRoleWithWebIdentity`` against the role's trust policy. It never applies identity
policies to the sandbox's own credentials (the account's), never authorizes the sandbox's own
internal calls, and is never on unless asked.
"""

from lmi_delivery.sandbox.iam.authorizer import Authorizer

__all__ = ["Authorizer"]
