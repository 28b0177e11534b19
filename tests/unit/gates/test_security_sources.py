"""Source positions: each finding points at the ``resource "TYPE" "NAME" {`` line that made it."""

from __future__ import annotations

from pathlib import Path

from gates_helpers import AGENT_PLATFORM, change, plan_document

from lmi_delivery.config.model import SecurityGate
from lmi_delivery.errors import Location
from lmi_delivery.findings import line
from lmi_delivery.gates import security
from lmi_delivery.gates.plan_json import Plan, Resource
from lmi_delivery.gates.sources import SourceIndex


def _resource(address: str, module: str = "", mode: str = "managed") -> Resource:
    rtype, name = address.split(".")[-2:]
    return Resource(address=address, type=rtype, name=name.split("[")[0], mode=mode,
                    module=module)


def test_agent_platform_resources_are_found_at_their_headers() -> None:
    index = SourceIndex(AGENT_PLATFORM / "terraform", AGENT_PLATFORM)
    assert index.locate(_resource("aws_lambda_function.router")) == \
        Location("terraform/function.tf", 12, 1)
    assert index.locate(_resource("aws_security_group.capacity_provider")) == \
        Location("terraform/network.tf", 28, 1)
    assert index.locate(_resource("aws_lambda_capacity_provider.shared")) == \
        Location("terraform/capacity_provider.tf", 1, 1)
    assert index.locate(_resource("data.aws_vpc.default", mode="data")) == \
        Location("terraform/network.tf", 1, 1)
    assert index.locate(_resource("aws_lambda_function.missing")) is None


def test_agent_platform_default_vpc_findings_carry_their_lines() -> None:
    configuration = {"root_module": {"resources": [
        {"address": "data.aws_vpc.default", "mode": "data", "type": "aws_vpc",
         "name": "default", "expressions": {"default": {"constant_value": True}}},
        {"address": "data.aws_subnets.default", "mode": "data", "type": "aws_subnets",
         "name": "default", "expressions": {"filter": [{"values": {"references": [
             "data.aws_vpc.default.id", "data.aws_vpc.default"]}}]}},
        {"address": "aws_security_group.capacity_provider", "mode": "managed",
         "type": "aws_security_group", "name": "capacity_provider",
         "expressions": {"vpc_id": {"references": ["data.aws_vpc.default.id",
                                                   "data.aws_vpc.default"]}}},
    ]}}
    plan = Plan(plan_document(
        [change("aws_security_group.capacity_provider", {"ingress": [], "egress": []})],
        configuration))
    index = SourceIndex(AGENT_PLATFORM / "terraform", AGENT_PLATFORM, plan)
    found = security.check(plan, SecurityGate(), index)
    assert [(f.rule_id, f.location) for f in found] == [
        ("SEC020", Location("terraform/network.tf", 28, 1))]


def _fixture_repo(root: Path) -> None:
    work = root / "infra" / "live"
    (work).mkdir(parents=True)
    (root / "infra" / "modules" / "net").mkdir(parents=True)
    (root / "infra" / "modules" / "inner").mkdir(parents=True)
    (work / "main.tf").write_text(
        '# the platform\n'
        'locals {\n  name = "x"\n}\n\n'
        'module "net" {\n  source = "../modules/net"\n}\n\n'
        'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "6.0.0"\n}\n\n'
        'resource aws_iam_policy "admin"{\n  policy = "{}"\n}\n')
    (root / "infra" / "modules" / "net" / "main.tf").write_text(
        'module "inner" {\n  source = "../inner"\n}\n\n'
        '  resource "aws_security_group" "web" {\n  name = "web"\n}\n')
    (root / "infra" / "modules" / "inner" / "sg.tf").write_text(
        'variable "x" {}\n\nresource "aws_security_group_rule" "open" {\n  type = "ingress"\n}\n')


def test_modules_are_followed_through_local_sources(tmp_path: Path) -> None:
    _fixture_repo(tmp_path)
    configuration = {"root_module": {"module_calls": {
        "net": {"source": "../modules/net", "module": {"module_calls": {
            "inner": {"source": "../inner", "module": {}}}}},
        "vpc": {"source": "terraform-aws-modules/vpc/aws", "module": {}},
    }}}
    plan = Plan(plan_document([], configuration))
    index = SourceIndex(tmp_path / "infra" / "live", tmp_path, plan)
    assert index.locate(_resource("aws_iam_policy.admin")) == \
        Location("infra/live/main.tf", 15, 1)
    assert index.locate(_resource("module.net.aws_security_group.web", "module.net")) == \
        Location("infra/modules/net/main.tf", 5, 3)
    inner = _resource("module.net.module.inner.aws_security_group_rule.open",
                      "module.net.module.inner")
    assert index.locate(inner) == Location("infra/modules/inner/sg.tf", 3, 1)
    # A remote module's resources are placed at the module call.
    assert index.locate(_resource("module.vpc.aws_vpc.this[0]", "module.vpc")) == \
        Location("infra/live/main.tf", 10, 1)


def test_module_findings_are_located_in_the_module(tmp_path: Path) -> None:
    _fixture_repo(tmp_path)
    configuration = {"root_module": {"module_calls": {
        "net": {"source": "../modules/net", "module": {}}}}}
    plan = Plan(plan_document([change(
        "module.net.aws_security_group.web", {"ingress": [
            {"cidr_blocks": ["0.0.0.0/0"], "from_port": 22, "to_port": 22, "protocol": "tcp"}]},
        module="module.net")], configuration))
    index = SourceIndex(tmp_path / "infra" / "live", tmp_path, plan)
    found = security.check(plan, SecurityGate(), index)
    assert [line(f) for f in found] == [
        "infra/modules/net/main.tf:5:3: HIGH SEC010 module.net.aws_security_group.web: "
        "allows inbound port 22/tcp from 0.0.0.0/0"]
