"""ARNs of one account and region, as IAM policies name them."""

from __future__ import annotations

from dataclasses import dataclass

#: GitHub's OIDC issuer, without the scheme (how IAM names the provider and its claims).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Arns:
    account: str
    region: str
    partition: str = "aws"

    def _arn(self, service: str, resource: str, *, region: bool = True,
             account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")

    def oidc_provider(self) -> str:
        return self._arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", region=False)

    def role(self, name: str) -> str:
        return self._arn("iam", f"role/{name}", region=False)

    def project(self, name: str) -> str:
        return self._arn("codebuild", f"project/{name}")

    def build_log_group(self, project: str) -> str:
        return self.log_group(f"/aws/codebuild/{project}")

    def log_group(self, name: str) -> str:
        return self._arn("logs", f"log-group:{name}")

    def function(self, name: str) -> str:
        return self._arn("lambda", f"function:{name}")

    def capacity_provider(self, name: str) -> str:
        return self._arn("lambda", f"capacity-provider:{name}")

    def rule(self, name: str) -> str:
        return self._arn("events", f"rule/{name}")

    def alarm(self, name: str) -> str:
        return self._arn("cloudwatch", f"alarm:{name}")

    def parameter(self, name: str) -> str:
        return self._arn("ssm", f"parameter/{name.lstrip('/')}")

    def secret(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        # Secrets Manager appends six random characters to a secret's name in its ARN.
        return self._arn("secretsmanager", f"secret:{name}-??????")

    def kms_keys(self) -> str:
        return self._arn("kms", "key/*")

    def bucket(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"

    def objects(self, bucket: str, key_pattern: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}/{key_pattern}"
