"""README's "From zero to a real account", followed line by line against the sandbox.

The block runs as written, in a fresh directory, with the sandbox as the account (its endpoint
and credentials in the environment, as an administrator's would be) and a stand-in ``gh`` on
the ``PATH`` that records each call (GitHub is not the sandbox's). Then: the stack exists,
``doctor --aws`` found nothing, and the GitHub script set every variable the workflow templates
read for the environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from lmi_delivery.bootstrap.github import variable_suffix
from lmi_delivery.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
#: ``gh api ...``: record the arguments; answer the one read the script makes of them.
GH = """#!{python}
import json, os, sys
with open(os.environ["GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if "--jq" in sys.argv and sys.argv[sys.argv.index("--jq") + 1] == ".id":
    print(42)
"""


def readme_block() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"## From zero to a real account\n.*?```sh\n(.*?)```", readme, re.S)
    assert found is not None, "README.md lost its 'From zero to a real account' commands"
    return found.group(1)


def workflow_variables(environment: str) -> set[str]:
    """Every ``vars.NAME`` and ``vars[format('NAME_{0}', ...)]`` the templates read."""
    text = "".join(p.read_text(encoding="utf-8")
                   for p in (REPO / "lmi_delivery" / "templates" / "workflows").glob("*.yml"))
    plain = set(re.findall(r"vars\.([A-Z0-9_]+)", text))
    per_env = {f"{name}{variable_suffix(environment)}"
               for name in re.findall(r"vars\[format\('([A-Z0-9_]+)\{0\}'", text)}
    return plain | per_env


def test_from_zero_to_a_real_account_as_the_readme_says(sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    block = readme_block()
    assert 6 <= len(block.strip().splitlines()) <= 8, "a handful of commands"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(GH.format(python=sys.executable), encoding="utf-8")
    gh.chmod(0o755)
    log = tmp_path / "gh.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                    f"{env.get('PATH', '')}",
               AWS_ENDPOINT_URL=sandbox.endpoint_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", GH_LOG=str(log))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr

    # bootstrap --apply made the stack, and doctor found what is deployed as rendered.
    stacks = sandbox.client("cloudformation").describe_stacks(StackName="shop-dev-delivery")
    assert stacks["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert "stack shop-dev-delivery created" in done.stdout
    assert "doctor: no findings" in done.stderr
    # plan read the live account with the same credentials and says what a push does.
    assert "lmi-delivery plan: shop / dev\n" in done.stdout
    assert "mode:    deploy: push on dev" in done.stdout
    assert "no AWS state was read" not in done.stdout

    # The GitHub side: the environment, its branch policy, and every variable the workflows
    # read for dev, holding the stack's role ARNs.
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert calls[0][:4] == ["api", "--method", "PUT", "repos/acme/shop/environments/dev"]
    set_vars = {}
    for call in calls:
        fields = dict(call[i + 1].split("=", 1) for i, a in enumerate(call) if a == "-f")
        if "value" in fields:  # PATCH, or POST when the variable is new
            set_vars[fields["name"]] = fields["value"]
    assert workflow_variables("dev") <= set(set_vars), (workflow_variables("dev"), set_vars)
    iam = sandbox.client("iam")
    for name, value in set_vars.items():
        if "ROLE_ARN" in name:
            assert iam.get_role(RoleName=value.rsplit("/", 1)[-1])["Role"]["Arn"] == value
