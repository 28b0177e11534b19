"""Every command that talks to AWS, through the real CLI, against an empty and a faulty sandbox.

Each command runs as ``python -m lmi_delivery`` (``lmi_delivery.cli.main:main``) in a checkout of
the quickstart, its AWS variables pointing at a sandbox: an empty one (no function, bucket, project
or build), one where every call meets one kind of fault (a throttle; a server failure, HTTP 500
from Lambda and 503 from the others; a dropped connection), and worlds where one operation fails
deep inside a command. Whatever AWS does, no output is an "internal error" or a traceback, the
exit code is the documented one (1 an AWS or other operation failure, 2 invalid input, 3 a
refusal), an AWS failure is named by operation and code, and no credential is printed.

``AWS_MAX_ATTEMPTS=1``: botocore does not retry, so no test sleeps through a backoff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lmi_delivery.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_REFUSED
from lmi_delivery.sandbox import FaultRates, Sandbox, SandboxOptions
from lmi_delivery.selfdist.wheel import own_wheel
from lmi_delivery.terraform import embedded

pytestmark = pytest.mark.slow  # the plan build runs the real (embedded) Terraform

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
BUCKET = "quickstart-delivery-artifacts"
FUNCTION = "quickstart-dev-router"
PROVIDER = "quickstart-dev-shared"
PLAN_BUILD = "quickstart-dev-tf-plan:00000000-0000-0000-0000-000000000001"
SHA256 = "a" * 64
#: Credentials no output may show (the sandbox accepts any).
SECRET_KEY = "sandbox-secret-access-key-never-shown"
SESSION_TOKEN = "sandbox-session-token-never-shown"
GIT = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com",
       "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=dev"]
#: The faults of a sandbox where every call fails: Lambda answers 500 and the other services 503
#: (one server failure each), or every call is throttled, or every connection dropped.
FAULTS = {
    "throttle": {"*": FaultRates(throttle=1.0)},
    "500/503": {"*": FaultRates(error_503=1.0), "lambda:*": FaultRates(error_500=1.0)},
    "drop": {"*": FaultRates(drop=1.0)},
}
#: The error codes the sandbox answers with for those faults, whatever the service.
FAULT_CODES = {
    "throttle": ("TooManyRequestsException", "ThrottlingException", "Throttling", "SlowDown"),
    "500/503": ("ServiceException", "InternalFailure", "InternalError",
                "ServiceUnavailableException", "ServiceUnavailable"),
    "drop": ("ConnectionClosedError",),
}
#: An lmi-delivery AWS failure as the CLI prints it: ``error: OPERATION failed: CODE: ...``.
AWS_FAILURE = re.compile(r"error: (?:waiter )?[A-Z][A-Za-z0-9]+(?: on \S+)? failed: "
                         r"(?P<code>[A-Za-z0-9]+): ")


@dataclass(frozen=True)
class Command:
    """One command line and its exit code against the empty and the faulty sandbox."""

    argv: tuple[str, ...]
    empty: int = EXIT_FAILED
    faulty: int = EXIT_FAILED
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return " ".join(self.argv)


#: What the orchestrator hands an apply build (CodeBuild's record is then asked to confirm it).
APPLY_BUILD = {"LMI_DELIVERY_EVENT": "push", "LMI_DELIVERY_MODE": "deploy",
               "LMI_PLAN_BUILD_ID": PLAN_BUILD, "LMI_PLAN_SHA256": SHA256}

#: Every command of ``lmi-delivery --help`` that calls AWS (``validate``, ``names``, ``doctor``,
#: ``init``, ``gates``, ``terraform install``, ``self-check`` and ``sandbox`` do not: ``gates``
#: reads AWS only inside the plan build, below). ``{sha}`` is the checkout's commit.
COMMANDS = (
    # Unreadable AWS state is a decision here: the plan is made offline, with a note.
    Command(("plan", "--env", "dev", "--event", "push", "--ref", "dev"), EXIT_OK, EXIT_OK),
    Command(("run", "--env", "dev", "--event", "push", "--ref", "dev", "--poll-interval",
             "0.1"), EXIT_FAILED, EXIT_FAILED),
    Command(("apply", "--env", "dev", "--plan-build", PLAN_BUILD, "--plan-sha256", SHA256,
             "--event", "push", "--ref", "dev"), EXIT_REFUSED, EXIT_FAILED),
    Command(("post-deploy", "--env", "dev"), EXIT_FAILED, EXIT_FAILED),
    Command(("post-deploy", "--env", "dev", "--dry-run"), EXIT_FAILED, EXIT_FAILED),
    Command(("publish", "--env", "dev"), EXIT_FAILED, EXIT_FAILED),
    Command(("alias", "--env", "dev"), EXIT_FAILED, EXIT_FAILED),
    Command(("alias", "--env", "dev", "--dry-run"), EXIT_FAILED, EXIT_FAILED),
    Command(("scale", "--env", "dev"), EXIT_FAILED, EXIT_FAILED),
    Command(("scale", "--env", "dev", "--dry-run"), EXIT_FAILED, EXIT_FAILED),
    Command(("warm", "--env", "dev"), EXIT_FAILED, EXIT_FAILED),
    Command(("warm", "--env", "dev", "--dry-run"), EXIT_FAILED, EXIT_FAILED),
    # Without a function or a deploy record there is nothing to roll back or prune.
    Command(("rollback", "--env", "dev"), EXIT_OK, EXIT_FAILED),
    Command(("rollback", "--env", "dev", "--dry-run"), EXIT_OK, EXIT_FAILED),
    Command(("status", "--env", "dev"), EXIT_OK, EXIT_FAILED),
    Command(("prune", "--env", "dev"), EXIT_OK, EXIT_FAILED),
    Command(("prune", "--env", "dev", "--dry-run"), EXIT_OK, EXIT_FAILED),
    Command(("prune", "--env", "dev", "--retire-capacity-provider", PROVIDER, "--dry-run"),
            EXIT_INVALID, EXIT_FAILED),
    Command(("codebuild", "start", "quickstart-dev-tf-plan", "--detach"),
            EXIT_FAILED, EXIT_FAILED),
    # An id CodeBuild does not know is bad input.
    Command(("codebuild", "wait", PLAN_BUILD, "--poll-interval", "0.1"),
            EXIT_INVALID, EXIT_FAILED),
    # The plan build against an empty account: Terraform's S3 backend finds no bucket.
    Command(("terraform", "plan", "--env", "dev", "--commit", "{sha}", "--exports",
             "plan.env"), EXIT_FAILED, EXIT_FAILED),
    Command(("terraform", "apply", "--env", "dev", "--commit", "{sha}", "--exports",
             "apply.env"), EXIT_REFUSED, EXIT_FAILED, APPLY_BUILD),
    Command(("ci", "--environment", "dev", "--command", "run"), EXIT_FAILED, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "plan"), EXIT_FAILED, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "drift"), EXIT_FAILED, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "apply", "--plan-build-id", PLAN_BUILD,
             "--plan-sha256", SHA256), EXIT_REFUSED, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "post-deploy"),
            EXIT_FAILED, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "prune"), EXIT_OK, EXIT_FAILED),
    Command(("ci", "--environment", "dev", "--command", "rollback"), EXIT_OK, EXIT_FAILED),
)
#: Terraform's own S3 backend retries five times with backoff (about 20 s a run) before
#: lmi-delivery makes a call: under faults on every call the plan build runs with S3 spared.
TERRAFORM_PLAN = next(c for c in COMMANDS if c.argv[:2] == ("terraform", "plan"))
#: The poller answers a throttle by polling less often, and waits on: throttled without end,
#: it never returns (a build outlives any throttling). It is asked about every other fault.
CODEBUILD_WAIT = next(c for c in COMMANDS if c.argv[:2] == ("codebuild", "wait"))


@dataclass
class Ran:
    command: Command
    code: int
    out: str
    err: str

    def show(self) -> str:
        return (f"$ lmi-delivery {self.command.name}\nexit {self.code}\n"
                f"--- stdout\n{self.out[-2000:]}\n--- stderr\n{self.err[-2000:]}")


class Checkout:
    """The quickstart as a git repository, and the CLI run in it against one sandbox."""

    def __init__(self, root: Path, shims: Path, home: Path) -> None:
        self.root, self.shims, self.home = root, shims, home
        shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(
            ".terraform*", "*.tfstate*", ".lmi-delivery", "*.tfplan"))
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "the quickstart")
        self.sha = self.git("rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        done = subprocess.run([*GIT, *args], cwd=self.root, capture_output=True, text=True,
                              check=True, env={**_clean(os.environ), "HOME": str(self.home)})
        return done.stdout.strip()

    def environ(self, sandbox: Sandbox, extra: Mapping[str, str]) -> dict[str, str]:
        return {**_clean(os.environ), "HOME": str(self.home), "RUNNER_TEMP": str(self.home),
                "PATH": f"{self.shims}{os.pathsep}{os.environ.get('PATH', '')}",
                "CHECKPOINT_DISABLE": "1", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_REGION": sandbox.region,
                "AWS_ACCESS_KEY_ID": "AKIDSANDBOX", "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_MAX_ATTEMPTS": "1", **extra}

    def run(self, sandbox: Sandbox, command: Command,
            extra: Mapping[str, str] | None = None) -> Ran:
        argv = [a.replace("{sha}", self.sha) for a in command.argv]
        for name in ("plan.env", "apply.env", "report.json"):
            (self.root / name).unlink(missing_ok=True)
        done = subprocess.run([sys.executable, "-m", "lmi_delivery", *argv], cwd=self.root,
                              env=self.environ(sandbox, {**command.environ, **(extra or {})}),
                              capture_output=True, text=True, timeout=180, check=False)
        return Ran(command, done.returncode, done.stdout, done.stderr)

    def run_all(self, sandbox: Sandbox, commands: tuple[Command, ...]) -> list[Ran]:
        """The commands side by side (each only reads, or fails before it writes)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda c: self.run(sandbox, c), commands))


def _clean(environ: Mapping[str, str]) -> dict[str, str]:
    """The machine's environment without its AWS, CI, build and Terraform settings."""
    return {k: v for k, v in environ.items()
            if not k.startswith(("AWS_", "CODEBUILD_", "LMI_", "GITHUB_", "RUNNER_", "TF_"))}


def problems(ran: Ran, expected: int) -> list[str]:
    """What is wrong with one run, whatever the scenario."""
    found = []
    both = ran.out + ran.err
    if "internal error" in both or "Traceback" in both:
        found.append("an internal error or a traceback")
    if ran.code != expected:
        found.append(f"exit {ran.code}, not {expected}")
    shown = "\n".join(line for line in both.splitlines()
                      if not line.startswith("::add-mask::"))  # GitHub's masking itself
    if SECRET_KEY in shown or SESSION_TOKEN in shown:
        found.append("a credential in the output")
    return found


def report(failures: list[tuple[Ran, list[str]]]) -> str:
    return "\n\n".join(f"{'; '.join(why)}\n{ran.show()}" for ran, why in failures)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    shims = tmp_path_factory.mktemp("bin")
    embedded.write_shim(shims)
    home = tmp_path_factory.mktemp("home")
    # `run` and `ci` hand builds this lmi-delivery's wheel: build it once, into their cache.
    own_wheel({**_clean(os.environ), "HOME": str(home)})
    return Checkout(tmp_path_factory.mktemp("work") / "repo", shims, home)


@pytest.fixture
def empty() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions()) as sandbox:
        yield sandbox


def everything_fails(kind: str, **spared: FaultRates) -> SandboxOptions:
    return SandboxOptions(faults={**FAULTS[kind], **spared})


# -- the empty sandbox ----------------------------------------------------------------------------


def test_every_aws_command_against_an_empty_sandbox(checkout: Checkout, empty: Sandbox) -> None:
    failures = [(ran, why) for ran in checkout.run_all(empty, COMMANDS)
                if (why := problems(ran, ran.command.empty))]
    assert not failures, report(failures)


def test_the_empty_accounts_refusals_name_the_operation(checkout: Checkout,
                                                       empty: Sandbox) -> None:
    """`alias --dry-run` on an account without the function was an internal error."""
    alias = checkout.run(empty, Command(("alias", "--env", "dev", "--dry-run")))
    assert "error: ListVersionsByFunction failed: ResourceNotFoundException: Function not " \
           f"found: {FUNCTION}" in alias.err, alias.show()
    start = checkout.run(empty, Command(("codebuild", "start", "quickstart-dev-tf-plan")))
    assert "error: StartBuild failed: ResourceNotFoundException: Project cannot be found" \
        in start.err, start.show()


# -- a sandbox whose every call fails -------------------------------------------------------------


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_aws_command_when_every_call_fails(checkout: Checkout, fault: str) -> None:
    with Sandbox(everything_fails(fault)) as sandbox:
        runs = checkout.run_all(sandbox, tuple(
            c for c in COMMANDS if c is not TERRAFORM_PLAN
            and not (fault == "throttle" and c is CODEBUILD_WAIT)))
    # The plan build: the LMI gate cannot read Lambda and warns; the plan is stored.
    with Sandbox(everything_fails(fault, **{"s3:*": FaultRates()})) as sandbox:
        sandbox.client("s3", internal=True).create_bucket(Bucket=BUCKET)
        plan = checkout.run(sandbox, TERRAFORM_PLAN)
    failures = []
    for ran in runs:
        why = problems(ran, ran.command.faulty)
        named = AWS_FAILURE.search(ran.err)
        if ran.command.faulty == EXIT_FAILED and (
                named is None or named["code"] not in FAULT_CODES[fault]):
            why.append(f"no AWS failure naming the operation and one of {FAULT_CODES[fault]}")
        if why:
            failures.append((ran, why))
    why = problems(plan, EXIT_OK)
    if "stored the review plan" not in plan.out + plan.err:
        why.append("no plan stored")
    if why:
        failures.append((plan, why))
    assert not failures, report(failures)


# -- one operation failing deep inside a command --------------------------------------------------

#: The quickstart's dev environment after two deploys: versions 1 and 2, live on 2.
DEPLOYED = f"""
region: us-east-1
buckets: [{BUCKET}]
capacity_providers:
  - name: {PROVIDER}
functions:
  - name: {FUNCTION}
    capacity_provider: {PROVIDER}
    versions: 2
    aliases: {{live: "2"}}
"""


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    seed = tmp_path / "seed.yml"
    seed.write_text(DEPLOYED, encoding="utf-8")
    return seed


def test_a_throttled_version_listing_is_an_aws_failure(checkout: Checkout,
                                                      deployed: Path) -> None:
    """`ListVersionsByFunction` under throttling was an internal error in alias, prune and
    the headroom check of publish (rollback no longer lists versions: the history says)."""
    options = SandboxOptions(faults={"ListVersionsByFunction": FaultRates(throttle=1.0)})
    commands = tuple(Command(argv) for argv in (
        ("alias", "--env", "dev", "--dry-run"),
        ("prune", "--env", "dev", "--dry-run"), ("post-deploy", "--env", "dev")))
    with Sandbox(options) as sandbox:
        sandbox.seed(deployed)
        runs = checkout.run_all(sandbox, commands)
    failures = [(ran, why) for ran in runs if (why := problems(ran, EXIT_FAILED))
                or "error: ListVersionsByFunction failed: TooManyRequestsException: Rate "
                   "exceeded" not in ran.err]
    assert not failures, report(failures)


def test_a_dropped_s3_connection_is_an_aws_failure(checkout: Checkout, deployed: Path) -> None:
    """`run` stores its wheel in S3 before it starts a build; rollback reads the alias
    history there, and does not guess without it."""
    with Sandbox(SandboxOptions(faults={"s3:*": FaultRates(drop=1.0)})) as sandbox:
        sandbox.seed(deployed)
        run, rollback = checkout.run_all(sandbox, (
            Command(("run", "--env", "dev", "--event", "push", "--ref", "dev")),
            Command(("rollback", "--env", "dev", "--dry-run"))))
    assert not problems(run, EXIT_FAILED), run.show()
    assert "error: PutObject failed: ConnectionClosedError: Connection was closed" in run.err, \
        run.show()
    assert not problems(rollback, EXIT_FAILED), rollback.show()
    assert "error: ListObjectsV2 failed: ConnectionClosedError" in rollback.err, rollback.show()


def test_a_publish_that_loses_its_connection_still_reports(checkout: Checkout,
                                                          deployed: Path) -> None:
    """A connection dropped under PublishVersion escaped the step's handling: no report."""
    options = SandboxOptions(faults={"PublishVersion": FaultRates(drop=1.0)})
    command = Command(("post-deploy", "--env", "dev", "--report", "report.json",
                       "--poll-interval", "0.05"))
    with Sandbox(options) as sandbox:
        sandbox.seed(deployed)
        ran = checkout.run(sandbox, command)
        written = (checkout.root / "report.json").read_text(encoding="utf-8") \
            if (checkout.root / "report.json").exists() else ""
        aliases = sandbox.client("lambda", internal=True).get_alias(FunctionName=FUNCTION,
                                                                    Name="live")
    assert not problems(ran, EXIT_FAILED), ran.show()
    assert f"PublishVersion on {FUNCTION} failed: ConnectionClosedError" in ran.err, ran.show()
    assert '"status": "failed"' in written, ran.show()
    assert "PublishVersion on" in written
    assert aliases["FunctionVersion"] == "2"


def test_the_apply_build_writes_its_verdict_when_codebuild_cannot_be_reached(
        checkout: Checkout) -> None:
    """The apply build reads the plan build's record from CodeBuild first; a dropped connection
    there left the buildspec without LMI_VERDICT."""
    apply = next(c for c in COMMANDS if c.argv[:2] == ("terraform", "apply"))
    options = SandboxOptions(faults={"codebuild:BatchGetBuilds": FaultRates(drop=1.0)})
    with Sandbox(options) as sandbox:
        sandbox.client("s3", internal=True).create_bucket(Bucket=BUCKET)
        ran = checkout.run(sandbox, apply)
        exports = (checkout.root / "apply.env").read_text(encoding="utf-8")
    assert not problems(ran, EXIT_FAILED), ran.show()
    assert "error: BatchGetBuilds failed: ConnectionClosedError" in ran.err, ran.show()
    assert "LMI_VERDICT=failed" in exports
    assert "BatchGetBuilds failed: ConnectionClosedError" in exports


def test_no_credentials_says_what_to_set(checkout: Checkout, empty: Sandbox) -> None:
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    ran = checkout.run(empty, Command(("alias", "--env", "dev", "--dry-run")), no_keys)
    assert not problems(ran, EXIT_FAILED), ran.show()
    assert "failed: NoCredentials: no AWS credentials found: set AWS_ACCESS_KEY_ID and " \
           "AWS_SECRET_ACCESS_KEY" in ran.err, ran.show()
