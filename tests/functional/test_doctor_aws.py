"""`doctor --aws` on a bootstrapped sandbox account: nothing to report, then exactly the drifts.

The account is bootstrapped by `bootstrap --apply`'s own code; doctor runs as the CLI a user
runs, with the sandbox's endpoint and the account's credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bootstrapped import QUICKSTART, REPOSITORY, bootstrap

from lmi_delivery.bootstrap.arns import Arns
from lmi_delivery.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]


def doctor(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(AWS_ENDPOINT_URL=sandbox.endpoint_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    return subprocess.run(
        [sys.executable, "-m", "lmi_delivery", "doctor", "--aws", "--config", str(QUICKSTART),
         "--env", "dev", "--repository", REPOSITORY, *args],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False)


def test_a_bootstrapped_account_has_no_findings_and_three_drifts_are_exactly_three(
        sandbox: Sandbox) -> None:
    plane = bootstrap(sandbox).plane
    clean = doctor(sandbox)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout == ""
    assert "doctor: no findings" in clean.stderr

    arns = Arns(plane.account, plane.region)
    iam: Any = sandbox.client("iam")
    deploy = plane.role("deploy")
    broadened = deploy.policy.to_dict()
    broadened["Statement"] = [*broadened["Statement"],  # type: ignore[misc]
                              {"Sid": "Hotfix", "Effect": "Allow", "Action": "codebuild:*",
                               "Resource": "*"}]
    iam.put_role_policy(RoleName=deploy.name, PolicyName="lmi-delivery",
                        PolicyDocument=json.dumps(broadened))
    apply = next(p for p in plane.projects if p.key == "apply")
    project = sandbox.client("codebuild").batch_get_projects(names=[apply.name])["projects"][0]
    sandbox.client("codebuild").update_project(name=apply.name, source={
        **project["source"], "buildspec": apply.buildspec + "      - env | sort\n"})
    sandbox.client("s3").delete_bucket_encryption(Bucket=plane.artifacts.name)

    drifted = doctor(sandbox, "--format", "json")
    assert drifted.returncode == 3, drifted.stdout + drifted.stderr
    found = json.loads(drifted.stdout)["findings"]
    assert sorted((f["rule"], f["file"]) for f in found) == sorted([
        ("LMD014", arns.role(deploy.name)),
        ("LMD015", arns.project(apply.name)),
        ("LMD016", arns.bucket(plane.artifacts.name)),
    ]), found
    by_rule = {f["rule"]: f["message"] for f in found}
    assert "statement Hotfix is not in the rendering" in by_rule["LMD014"]
    assert "buildspec" in by_rule["LMD015"]
    assert "not SSE-KMS" in by_rule["LMD016"]

    text = doctor(sandbox)
    assert text.returncode == 3
    assert f"{arns.project(apply.name)}: LMD015 " in text.stdout  # ARN: RULE message


def test_a_fresh_account_reports_every_resource_missing(sandbox: Sandbox) -> None:
    done = doctor(sandbox, "--format", "json")
    assert done.returncode == 3, done.stderr
    rules = {f["rule"] for f in json.loads(done.stdout)["findings"]}
    assert rules == {"LMD013"}
