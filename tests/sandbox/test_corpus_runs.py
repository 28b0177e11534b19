"""Real buildspecs run in the sandbox's CodeBuild as CodeBuild runs them.

``../shared/corpus/buildspecs/sandbox-runs/`` (beside the repository, as in CI) holds real
buildspecs adapted only so that they need nothing but a shell: the network, the AWS CLI, docker
and the other tools they call are stubs, written here. Each test runs one file unchanged and
checks what CodeBuild would have produced. Without the corpus the tests fail, saying where
it should be.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import shared_corpus
from codebuild_helpers import log_lines, make_project, output, phases, run, variables

from lmi_delivery.sandbox.server import Sandbox

pytestmark = pytest.mark.slow


#: SSM parameters the AWS CLI stub answers (``aws ssm get-parameter --name N``).
PARAMETERS = {
    "/aft/config/terraform/version": "1.6.0",
    "/aft/config/terraform/distribution": "tfc",
    "/aft/config/ct-management-region": "us-east-1",
    "/aft/account/aft-management/account-id": "111122223333",
    "/aft/resources/iam/aft-administrator-role-name": "AWSAFTAdmin",
    "/aft/resources/iam/aft-session-name": "AWS-AFT-Session",
    "/aft/config/aft-pipeline-code-source/repo-url": "https://example.invalid/aft.git",
    "/aft/config/aft-pipeline-code-source/repo-git-ref": "main",
    "/aft/config/terraform/org-name": "example-org",
    "/aft/config/terraform/token": "tfc-token",
    "/aft/config/terraform/api-endpoint": "https://app.terraform.io/api/v2/",
    "/aft/config/terraform/project-name": "aft",
    "/aft/config/terraform/oidc-integration": "false",
    "/aft/config/terraform/oidc-aws-audience": "aws.workload.identity",
}

STUBS = {
    "aws": f"""#!{sys.executable}
import json, sys
args = sys.argv[1:]
if args[:1] == ["--version"]:
    print("aws-cli/2.0.0 (sandbox stub)")
elif args[:2] == ["ecr", "get-login"]:
    print("echo Login Succeeded")
elif args[:2] == ["ssm", "get-parameter"]:
    name = args[args.index("--name") + 1]
    value = {json.dumps(PARAMETERS)}.get(name)
    if value is None:
        print(f"An error occurred (ParameterNotFound): {{name}}", file=sys.stderr)
        sys.exit(255)
    print(value if "--query" in args else json.dumps({{"Parameter": {{"Value": value}}}}))
""",
    "jq": f"""#!{sys.executable}
import json, sys
document = json.load(sys.stdin)
for key in sys.argv[-1].strip(".").split("."):
    document = document[key]
print(document)
""",
    "git": """#!/bin/bash
[ "$1" = clone ] || exit 0
dir=${@: -1}
mkdir -p "$dir/sources/scripts" "$dir/sources/aft-lambda-layer/aft_common"
printf '#!/bin/sh\\necho creds-ready\\n' > "$dir/sources/scripts/creds.sh"
""",
    "python3": """#!/bin/bash
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"; : > "$3/bin/activate"
  printf '#!/bin/sh\\necho pip "$@"\\n' > "$3/bin/pip"; chmod +x "$3/bin/pip"
fi
exit 0
""",
    "curl": """#!/bin/sh
cat "$STUB_DIR/steampipe.tar.gz"
""",
    "docker": "#!/bin/sh\necho docker \"$@\"\n",
    "php": "#!/bin/sh\necho 'PHP 7.3 (sandbox stub)'\n",
    "chown": "#!/bin/sh\nexit 0\n",
}

STEAMPIPE = """#!/bin/sh
case "$1" in
  check) echo "token: $STEAMPIPE_CLOUD_TOKEN"
         echo "ALARM count 3"
         echo "Snapshot uploaded to https://cloud.steampipe.io/user/x/snapshot/snap_1" ;;
  *) echo "steampipe $*" ;;
esac
"""


@pytest.fixture
def codebuild(sandbox: Sandbox) -> Any:
    return sandbox.client("codebuild")


@pytest.fixture
def logs(sandbox: Sandbox) -> Any:
    return sandbox.client("logs")


@pytest.fixture
def stubs(tmp_path: Path) -> list[dict[str, str]]:
    """The stub tools, and the overrides that put them first on the build's PATH."""
    bin_dir = tmp_path / "stubs"
    bin_dir.mkdir()
    for name, text in STUBS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = STEAMPIPE.encode()
        info = tarfile.TarInfo("steampipe")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    (bin_dir / "steampipe.tar.gz").write_bytes(archive.getvalue())
    home = tmp_path / "home"
    home.mkdir()
    return variables(PATH=f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", STUB_DIR=str(bin_dir),
                     HOME=str(home))


def spec(name: str) -> str:
    return (shared_corpus.corpus("buildspecs", "sandbox-runs") / name).read_text(encoding="utf-8")


def test_the_shell_state_probe(codebuild: Any, logs: Any, tmp_path: Path,
                               stubs: list[dict[str, str]]) -> None:
    # CodeBuild keeps plain variables and the working directory between commands (buildspec
    # reference, "version"); the sandbox's bash also keeps arrays and functions, not options.
    make_project(codebuild, tmp_path, spec("probe-shell-state.yml"))
    build = run(codebuild, environmentVariablesOverride=stubs)
    assert build["buildStatus"] == "SUCCEEDED"
    assert output(logs, build) == [
        "PLAIN_VAR=[plain-value] EXPORTED_VAR=[exported-value] pwd=[sub]",
        "ARR[1]=[second]", "pipefail=off", "function-survived"]
    assert build["exportedEnvironmentVariables"] == [
        {"name": "PLAIN_VAR", "value": "plain-value"},
        {"name": "EXPORTED_VAR", "value": "exported-value"}]


def test_the_ecs_sample_writes_the_whole_image_uri(
        sandbox: Sandbox, codebuild: Any, tmp_path: Path, stubs: list[dict[str, str]]) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="artifacts")
    (tmp_path / "src").mkdir()
    make_project(codebuild, tmp_path / "src", spec("ecsphp-files-as-list.yml"),
                 artifacts={"type": "S3", "location": "artifacts", "name": "ecs",
                            "packaging": "NONE"})
    build = run(codebuild, environmentVariablesOverride=stubs)
    assert build["buildStatus"] == "SUCCEEDED", phases(build)
    body = s3.get_object(Bucket="artifacts", Key="ecs/imagedefinitions.json")["Body"].read()
    assert json.loads(body) == [{"name": "hello-world", "imageUri":
                                 "844391514545.dkr.ecr.us-east-1.amazonaws.com/testapprepo:latest"}]


def test_the_control_tower_customizations_build(codebuild: Any, logs: Any, tmp_path: Path,
                                                stubs: list[dict[str, str]]) -> None:
    source = tmp_path / "customizations"
    (source / "api_helpers" / "python").mkdir(parents=True)
    (source / "terraform").mkdir()
    (source / "api_helpers" / "python" / "requirements.txt").write_text("boto3\n")
    for hook in ("pre", "post"):
        (source / "api_helpers" / f"{hook}-api-helpers.sh").write_text(f"echo {hook}-hook-ran\n")
    make_project(codebuild, source, spec("aft-global-customizations-exported.yml"))
    build = run(codebuild, environmentVariablesOverride=[
        *stubs, *variables(VENDED_ACCOUNT_ID="444455556666", AWS_PARTITION="aws")])
    assert build["buildStatus"] == "SUCCEEDED", phases(build)
    assert {p["phaseStatus"] for p in build["phases"][:-1]} == {"SUCCEEDED"}
    lines = output(logs, build)
    assert {"creds-ready", "pre-hook-ran", "post-hook-ran"} <= set(lines)


def test_steampipe_reads_its_secret_masked_and_exports_its_results(
        sandbox: Sandbox, codebuild: Any, logs: Any, tmp_path: Path,
        stubs: list[dict[str, str]]) -> None:
    sandbox.client("secretsmanager").create_secret(Name="steampipe-cloud", SecretString=json.dumps(
        {"STEAMPIPE_CLOUD_TOKEN": "spt_secret_token_1", "WORKSPACE": "acme/prod"}))
    source = tmp_path / "repo"
    (source / "terraform").mkdir(parents=True)
    make_project(codebuild, source, spec("steampipe-literal-secret.yml"))
    build = run(codebuild, environmentVariablesOverride=[*stubs, *variables(
        STEAMPIPE_BINARY_URL="https://example.invalid/steampipe.tar.gz", REPO="infra",
        BRANCH="main", SNAPSHOT_TITLE="Terraform Report")])
    assert build["buildStatus"] == "SUCCEEDED", phases(build)
    assert build["exportedEnvironmentVariables"] == [
        {"name": "STATUS_URL", "value": "https://cloud.steampipe.io/user/x/snapshot/snap_1"},
        {"name": "ALARM_COUNT", "value": "3"}]
    text = "\n".join(log_lines(logs, build))
    assert "token: ***" in text
    assert "spt_secret_token_1" not in text
    assert "run-as codebuild-user is not honoured in the BUILD phase" in text
