"""clients_for: one region precedence, the environment's role, one rate budget per process.

Clients are built, never called over the network (a ``before-send`` hook answers the one call
the shared-budget test makes).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from lmi_delivery.aws.budget import BudgetRegistry
from lmi_delivery.aws.clients import ClientFactory, clients_for
from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.errors import UsageError

QUICKSTART = Path(__file__).resolve().parents[3] / "examples" / "quickstart"
ROLE = "arn:aws:iam::210987654321:role/deployer"
#: What CodeBuild (or a workflow's configure-aws-credentials step) puts in every environment.
AMBIENT = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1",
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The quickstart with dev in eu-west-1 behind a role; prod in the config's us-east-1."""
    root = tmp_path / "repo"
    shutil.copytree(QUICKSTART, root)
    path = root / "lmi-delivery.yml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("dev: {branch: dev, apply: auto}",
                        f"dev: {{branch: dev, apply: auto, region: eu-west-1, role_arn: {ROLE}}}")
    path.write_text(text, encoding="utf-8")
    return load(str(path))


def test_the_config_region_wins_over_the_ambient_variables(config: Config) -> None:
    dev = clients_for(config, config.environment("dev"), AMBIENT)
    prod = clients_for(config, config.environment("prod"), AMBIENT)
    assert dev.settings.region == "eu-west-1"
    assert prod.settings.region == "us-east-1"
    assert dev.client("lambda").meta.region_name == "eu-west-1"
    assert prod.client("s3").meta.region_name == "us-east-1"


def test_without_a_config_aws_region_decides_then_aws_default_region() -> None:
    assert clients_for(None, None, AMBIENT).settings.region == "us-west-2"
    only_default = {k: v for k, v in AMBIENT.items() if k != "AWS_REGION"}
    assert clients_for(None, None, only_default).settings.region == "ap-south-1"
    with pytest.raises(UsageError, match="no AWS region"):
        clients_for(None, None, {})


def test_a_config_needs_its_environment(config: Config) -> None:
    with pytest.raises(TypeError):
        clients_for(config, None, AMBIENT)


def test_the_environments_role_is_assumed_unless_a_build_acts_as_its_own(config: Config) -> None:
    dev = config.environment("dev")
    assert clients_for(config, dev, AMBIENT).settings.role_arn == ROLE
    assert clients_for(config, dev, AMBIENT, assume_role=False).settings.role_arn is None
    assert clients_for(config, config.environment("prod"), AMBIENT).settings.role_arn is None


def test_max_attempts_overrides_the_environment(config: Config) -> None:
    environ = {**AMBIENT, "AWS_MAX_ATTEMPTS": "7"}
    prod = config.environment("prod")
    assert clients_for(config, prod, environ).settings.max_attempts == 7
    assert clients_for(config, prod, environ, max_attempts=2).settings.max_attempts == 2


def test_every_command_path_gets_the_same_region(config: Config) -> None:
    """The plan and apply builds used to prefer AWS_REGION; post-deploy and prune the config."""
    from lmi_delivery.cli.commands.postdeploy import make_clients
    from lmi_delivery.postdeploy.prune.run import lambda_client
    from lmi_delivery.terraform.build_services import BuildRequest, make_services

    dev = config.environment("dev")
    build = make_services(BuildRequest(str(config.path), "dev", commit="a" * 40), AMBIENT)
    regions = {build.codebuild.meta.region_name, build.lambda_client.meta.region_name,
               make_clients(config, dev, dict(AMBIENT)).lambda_.meta.region_name,
               lambda_client(config, dev, AMBIENT).meta.region_name}
    assert regions == {"eu-west-1"}


def _answer_ok(request: Any, **_: Any) -> AWSResponse:
    return AWSResponse(request.url, 200, {}, _Body())  # type: ignore[arg-type]  # a dict will do


class _Body:
    def stream(self, **_: Any) -> Any:
        yield b'{"Functions": []}'


def test_factories_of_one_process_share_one_lambda_budget(config: Config) -> None:
    """Two commands of one process (``ci`` plans, then reads the deploy record) draw on one
    budget per account and region, as AWS counts them."""
    env = config.environment("prod")
    first, second = clients_for(config, env, AMBIENT), clients_for(config, env, AMBIENT)
    budget = first.lambda_pacer().control
    assert second.lambda_pacer().control is budget
    before = budget.admitted
    for factory in (first, second):
        client = factory.client("lambda")
        answer: Any = _answer_ok  # botocore reads a before-send handler's answer
        client.meta.events.register("before-send.lambda", answer)
        client.list_functions()
    assert budget.admitted == before + 2
    own = ClientFactory(first.settings, budgets=BudgetRegistry())
    assert own.lambda_pacer().control is not budget
