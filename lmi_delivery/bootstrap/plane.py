"""Building the :class:`~lmi_delivery.bootstrap.model.Plane` of one environment from the config.

The inputs are checked here, before anything is rendered: the repository (``github.repository``
or ``--repository``) and the account (``environments.ENV.account_id`` or ``--account-id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lmi_delivery.bootstrap import permissions, service_roles, storage, trust
from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.bootstrap.buildspecs import buildspec, buildspec_file
from lmi_delivery.bootstrap.model import Document, GitHubEnvironment, Plane, Project, Role
from lmi_delivery.bootstrap.scope import PROJECT_KEYS, STATE_KEY, scope
from lmi_delivery.config import naming
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.errors import UsageError

REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
ACCOUNT = re.compile(r"\d{12}")
#: IAM role names: at most 64 characters of ``[\w+=,.@-]``.
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")

@dataclass(frozen=True)
class RoleSpec:
    key: str
    suffix: str
    description: str


GITHUB_ROLES = (
    RoleSpec("review", "gh-review", "GitHub pull requests and the default branch's drift "
                                    "runs: start the review project, read its logs"),
    RoleSpec("plan", "gh-plan", "GitHub pushes to the environment's branch: start and watch "
                                "its plan build"),
    RoleSpec("deploy", "gh-deploy", "GitHub deploy jobs of the environment: start and watch "
                                    "its plan, apply and post-deploy builds"),
    RoleSpec("prune", "gh-prune", "GitHub's default branch: prune the environment's old "
                                  "function versions"),
)
SERVICE_ROLES = {
    "review": RoleSpec("review-build", "cb-review", "Review builds: read-only refresh, "
                                                    "review plans only, no secrets"),
    "plan": RoleSpec("plan-build", "cb-plan", "Plan builds: read-only refresh, state lock, "
                                              "new content-addressed plans"),
    "apply": RoleSpec("apply-build", "cb-apply", "Apply builds: what the Terraform root "
                                                 "manages, state, reading plans"),
    "post_deploy": RoleSpec("post-deploy-build", "cb-post-deploy",
                            "Post-deploy builds: publish, alias, scale, warm, prune"),
}


def resolve_repository(config: Config, flag: str | None) -> str:
    repository = flag or config.github.repository
    if not repository:
        raise UsageError(f"no GitHub repository: set github.repository (OWNER/REPO) in "
                         f"{config.path.name} or pass --repository OWNER/REPO; the roles' "
                         "OIDC trust is bound to it")
    if not REPOSITORY.fullmatch(repository):
        raise UsageError(f"--repository {repository!r} is not OWNER/REPO")
    return repository


def resolve_account(config: Config, env: Environment, flag: str | None) -> str:
    account = flag or env.account_id
    if not account:
        raise UsageError(f"no AWS account for environment {env.name!r}: set "
                         f"environments.{env.name}.account_id in {config.path.name} or pass "
                         "--account-id; every ARN of the plane names it")
    if not ACCOUNT.fullmatch(account):
        raise UsageError(f"--account-id {account!r} is not a 12-digit AWS account id")
    if env.account_id and flag and flag != env.account_id:
        raise UsageError(f"--account-id {flag} contradicts environments.{env.name}.account_id "
                         f"{env.account_id} in {config.path.name}")
    return account


def _role_name(config: Config, env: Environment, suffix: str) -> str:
    name = naming.render(config.naming, **naming.values(config, env, suffix))
    if not ROLE_NAME.fullmatch(name):
        raise UsageError(f"IAM role name {name!r} (from the naming rule) is not a valid IAM "
                         "role name (at most 64 letters, digits and +=,.@_-)")
    return name


def build_plane(config: Config, env: Environment, *, repository: str, account: str) -> Plane:
    """The delivery plane of ``env``: every role, project, bucket and GitHub setting."""
    region = config.region_for(env)
    arns = Arns(account, region)
    s = scope(config, env, repository=repository)
    missing = [k for k in PROJECT_KEYS if k not in s.projects]
    if missing:  # pragma: no cover - the builder fills every project key with a default
        raise UsageError(f"codebuild.projects lacks {', '.join(missing)}")
    subjects: dict[str, str | tuple[str, ...]] = {
        # drift.yml runs on a schedule, so on the default branch: a review plan, read-only
        "review": (trust.pull_request_subject(repository),
                   trust.branch_subject(repository, s.default_branch)),
        "plan": trust.branch_subject(repository, env.branch),
        "deploy": trust.environment_subject(repository, env.name),
        "prune": trust.branch_subject(repository, s.default_branch)}
    grants = {"review": permissions.review_role, "plan": permissions.plan_role,
              "deploy": permissions.deploy_role, "prune": permissions.prune_role}
    roles = [Role(spec.key, _role_name(config, env, spec.suffix), "github", spec.description,
                  trust.github(arns, subjects[spec.key]),
                  Document(tuple(grants[spec.key](arns, s))))
             for spec in GITHUB_ROLES]
    builds = {"review": service_roles.review_build, "plan": service_roles.plan_build,
              "apply": service_roles.apply_build, "post_deploy": service_roles.post_deploy_build}
    projects = []
    for key in PROJECT_KEYS:
        spec = SERVICE_ROLES[key]
        roles.append(Role(spec.key, _role_name(config, env, spec.suffix), "service",
                          spec.description, trust.codebuild(arns, s.projects[key]),
                          Document(tuple(builds[key](arns, s)))))
        projects.append(Project(
            key=key, name=s.projects[key], role=spec.key, buildspec=buildspec(key),
            buildspec_file=buildspec_file(key),
            timeout_minutes=config.codebuild.timeout_minutes,
            queued_timeout_minutes=config.codebuild.queued_timeout_minutes,
            concurrent_build_limit=1 if key == "apply" else None,
            source_url=f"https://github.com/{repository}.git"))
    where = naming.artifact_location(config)
    artifacts = storage.artifacts_bucket(
        arns, s, config_prefix=where.prefix, review_root=config.codebuild.review_prefix.strip("/"),
        retention_days=config.codebuild.plan_retention_days)
    return Plane(
        service=config.service, environment=env.name, account=account, region=region,
        repository=repository, oidc_provider_arn=arns.oidc_provider(), roles=tuple(roles),
        projects=tuple(projects), artifacts=artifacts,
        state=None if s.state_bucket == s.bucket else storage.state_bucket(arns, s),
        kms=storage.kms_key(arns, s),
        backend_config=storage.backend_config(s, _state_key_template(config)),
        github=GitHubEnvironment(
            name=env.name, branch=env.branch, required_reviewers=env.apply == "approval",
            prevent_self_review=env.require_distinct_approver),
    )


def _state_key_template(config: Config) -> str:
    for item in config.terraform.backend_config:
        key, sep, value = item.partition("=")
        if sep and key.strip() == "key":
            return value.strip()
    return STATE_KEY
