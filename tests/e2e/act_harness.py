"""Run the repository's workflow templates under ``act`` against the sandbox, offline.

The pieces, each standing for what GitHub and AWS are in production:

- :class:`ThrowawayRepo`: a git repository holding a copy of an example (``examples/quickstart``,
  or ``examples/platform-monorepo`` with :meth:`ThrowawayRepo.monorepo`) with the templates of
  ``workflows/`` copied into ``.github/workflows/``, as a user would have them, and real commits
  on ``main``, ``dev``, feature branches and the pull requests' merge refs, so the events carry
  real SHAs. It is "GitHub's" copy of the repository: the checkout stand-in clones
  it (as deep as the step's ``fetch-depth``) and the sandbox's CodeBuild projects build from it.
- :class:`SandboxServer`: ``lmi-delivery sandbox serve --config <repo>/lmi-delivery.yml --port
  0`` (a port the system picks; it prints which) as a subprocess: functions, capacity
  providers, the artifacts bucket, secrets and the CodeBuild projects of every environment,
  building from the throwaway repository.
- :mod:`fake_github`: the REST API on 127.0.0.1 (``GITHUB_API_URL``).
- the stand-ins of ``tests/data/act`` for the third-party actions, and a copy of this
  repository's working tree for ``org/lmi-delivery@v1``, the action under test, mapped with
  ``--local-repository``.
- :class:`Act`: ``act`` itself, jobs on the host (``-P ubuntu-latest=-self-hosted``), no
  network: ``--action-offline-mode``, no cache server, no artifact server, every action mapped
  locally. The runner's Python is an isolated virtualenv (never the project's ``.venv``: the
  action ``pip install``\\ s itself into whatever ``python`` is first on ``PATH``).

Each run's full log (``act --json``: one JSON object per line) is kept in the run's directory;
:class:`ActRun` reads step outputs and job results from it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import fake_github
from botocore.config import Config as BotoConfig
from fake_github import FakeGithub

from lmi_delivery.config import load
from lmi_delivery.config.model import Config

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "tests" / "data" / "act"
QUICKSTART = ROOT / "examples" / "quickstart"
MONOREPO = ROOT / "examples" / "platform-monorepo"
#: The workflow templates under test: ``workflows/`` of this working tree, or another directory
#: of templates (``LMI_E2E_WORKFLOWS=/path``), e.g. an older version's, to see a test catch a bug.
TEMPLATES = Path(os.environ.get("LMI_E2E_WORKFLOWS") or ROOT / "workflows")
ACT = Path(sys.executable).with_name("act")

REPOSITORY = "acme/platform"
TOKEN = "ghs_actE2eFakeInstallationToken0123456789"
AUTHOR = "alice"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def bootstrap_variables() -> dict[str, str]:
    """The variables the templates read (``vars.*``), as ``lmi-delivery bootstrap
    --github-commands`` sets them for each of the quickstart's environments: the repository's,
    and ``LMI_DEPLOY_ROLE_ARN`` (on GitHub an environment's own variable; act has no
    environments, so it is given for the whole repository, as dev's)."""
    from lmi_delivery.bootstrap import build_plane
    from lmi_delivery.bootstrap.github import variables
    from lmi_delivery.config import load

    config = load(QUICKSTART / "lmi-delivery.yml")
    found: dict[str, str] = {}
    for env in reversed(list(config.environments.values())):
        plane = build_plane(config, env, repository=REPOSITORY, account=ACCOUNT)
        on_environment, on_repository = variables(plane)
        found.update(on_repository)
        found.update(on_environment)
    return found


#: The variables every act run gets.
VARIABLES = bootstrap_variables()
#: Third-party actions of the templates -> their offline stand-in.
STANDIN_ACTIONS = {
    "actions/checkout@v4": STANDINS / "checkout",
    "actions/setup-python@v5": STANDINS / "setup-python",
    "aws-actions/configure-aws-credentials@v4": STANDINS / "configure-aws-credentials",
    "actions/github-script@v7": STANDINS / "github-script",
}
ACTION_UNDER_TEST = "org/lmi-delivery@v1"
ACT_TIMEOUT_SECONDS = 240
_GIT_IDENTITY = {"GIT_AUTHOR_NAME": AUTHOR, "GIT_AUTHOR_EMAIL": f"{AUTHOR}@example.com",
                 "GIT_COMMITTER_NAME": AUTHOR, "GIT_COMMITTER_EMAIL": f"{AUTHOR}@example.com"}
#: Variables of the test process that must not leak into act, its jobs or the builds.
_LEAKY_PREFIXES = ("AWS_", "GITHUB_", "LMI_", "ACT_", "ACTIONS_", "RUNNER_", "CODEBUILD_",
                   "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CI")


def clean_environ(home: Path, *, path_front: Path | None = None) -> dict[str, str]:
    """The machine's environment without test, CI, AWS or virtualenv settings; ``HOME`` apart.

    ``PATH`` loses every directory of this interpreter's virtualenv, so that nothing act runs
    finds the project's ``.venv`` (``pip install`` there would replace its editable install).
    """
    venv = Path(sys.prefix).resolve()
    entries = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
               if p and not Path(p).resolve().is_relative_to(venv)]
    if path_front is not None:
        entries.insert(0, str(path_front))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    environ.update(PATH=os.pathsep.join(entries), HOME=str(home), PIP_REQUIRE_VIRTUALENV="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
    return environ


# -- the throwaway repository -----------------------------------------------------------------

COMMENT_ALWAYS = 'comment-on-pr: "true"'
COMMENT_DEV_CHANGES_ONLY = ("comment-on-pr: ${{ matrix.environment == 'dev' && 'changes-only' "
                            "|| 'true' }}")

#: A deploy-only secret of the throwaway repository's config (the sandbox makes up its value).
DEPLOY_SECRET = "/quickstart/{env}/deploy-token"


@dataclass(frozen=True)
class PullRequestRefs:
    """A pull request of :class:`ThrowawayRepo`: its branch, base and the commits GitHub has."""

    number: int
    branch: str
    base: str
    base_sha: str
    head: str
    merge: str
    """``refs/pull/N/merge``: GitHub's test merge of ``head`` into ``base``, the event's SHA."""


def _copy_example(source: Path, path: Path) -> Path:
    """``source`` at ``path`` with the templates in ``.github/workflows/``; the workflows dir."""
    shutil.copytree(source, path, ignore=shutil.ignore_patterns(
        ".terraform", "*.tfstate*", "*.tfplan", ".lmi-delivery"))
    workflows = path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for template in sorted(TEMPLATES.glob("*.yml")):
        shutil.copy2(template, workflows / template.name)
    return workflows


@dataclass
class ThrowawayRepo:
    path: Path
    shas: dict[str, str] = field(default_factory=dict)
    """``main``, ``dev``, ``feature`` (the pull request's head) and ``merge`` (its merge ref)."""
    pr_number: int = 7
    feature_branch: str = "feature/router-release"

    @property
    def config(self) -> Path:
        return self.path / "lmi-delivery.yml"

    def git(self, *args: str) -> str:
        env = {**os.environ, **_GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull}
        result = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True,
                                text=True, check=True)
        return result.stdout.strip()

    def _commit(self, message: str, files: Mapping[str, str]) -> str:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "--quiet", "--no-gpg-sign", "-m", message)
        return self.git("rev-parse", "HEAD")

    def _init(self, message: str) -> None:
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("remote", "add", "origin", f"https://github.com/{REPOSITORY}.git")
        self.shas["main"] = self._commit(message, {})

    def text(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8")

    def open_pull_request(self, number: int, branch: str, base: str, message: str,
                          files: Mapping[str, str]) -> PullRequestRefs:
        """A branch off ``base`` with one commit of ``files``, and the refs GitHub makes for
        its pull request (``refs/pull/N/head`` and the test merge ``refs/pull/N/merge``); the
        working copy is left on ``main``."""
        base_sha = self.git("rev-parse", base)
        self.git("switch", "--quiet", "-c", branch, base)
        head = self._commit(message, files)
        # GitHub's test merge of the pull request: refs/pull/N/merge, the event's GITHUB_SHA.
        self.git("switch", "--quiet", "--detach", base)
        self.git("merge", "--quiet", "--no-ff", "--no-gpg-sign", "-m",
                 f"Merge {head} into {base_sha}", branch)
        merge = self.git("rev-parse", "HEAD")
        self.git("update-ref", f"refs/pull/{number}/head", head)
        self.git("update-ref", f"refs/pull/{number}/merge", merge)
        self.git("switch", "--quiet", "main")
        return PullRequestRefs(number, branch, base, base_sha, head, merge)

    def merge(self, pr: PullRequestRefs) -> str:
        """Merge the pull request into its base branch (a merge commit, as GitHub's button
        does); the new tip of the base branch."""
        self.git("switch", "--quiet", pr.base)
        self.git("merge", "--quiet", "--no-ff", "--no-gpg-sign", "-m",
                 f"Merge pull request #{pr.number} from {pr.branch}", pr.branch)
        tip = self.git("rev-parse", "HEAD")
        self.git("switch", "--quiet", "main")
        return tip

    def commit_on(self, branch: str, message: str, files: Mapping[str, str]) -> str:
        """One commit of ``files`` on ``branch`` (a push to it); the working copy is left on
        ``main``."""
        self.git("switch", "--quiet", branch)
        sha = self._commit(message, files)
        self.git("switch", "--quiet", "main")
        return sha

    @classmethod
    def create(cls, path: Path) -> ThrowawayRepo:
        """The quickstart: one pull request (``pr_number``, ``feature_branch``) into dev."""
        workflows = _copy_example(QUICKSTART, path)
        # A deploy-only secret: deploy builds get it as a reference, review builds never.
        config = path / "lmi-delivery.yml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "  artifacts: s3://", f'  secrets:\n    DEPLOY_TOKEN: "ssm:{DEPLOY_SECRET}"\n'
            "  artifacts: s3://"), encoding="utf-8")
        # dev's pull request comment is changes-only (prod's stays the default, always), so
        # the pull request runs cover both.
        pull_request = workflows / "pull-request.yml"
        text = pull_request.read_text(encoding="utf-8")
        assert COMMENT_ALWAYS in text, f"{pull_request} no longer has {COMMENT_ALWAYS!r}"
        pull_request.write_text(text.replace(COMMENT_ALWAYS, COMMENT_DEV_CHANGES_ONLY),
                                encoding="utf-8")
        repo = cls(path)
        repo._init("The quickstart platform, with the lmi-delivery workflows")
        tfvars = "terraform/env/dev.tfvars"
        release = repo.text(tfvars)
        repo.git("switch", "--quiet", "-c", "dev")
        repo.shas["dev"] = repo._commit("dev: router release 2026.11.2", {
            tfvars: release.replace("2026.11.1", "2026.11.2")})
        pr = repo.open_pull_request(repo.pr_number, repo.feature_branch, "dev",
                                    "Router release 2026.12.0",
                                    {tfvars: release.replace("2026.11.1", "2026.12.0")})
        repo.shas["feature"], repo.shas["merge"] = pr.head, pr.merge
        return repo

    @classmethod
    def monorepo(cls, path: Path) -> ThrowawayRepo:
        """``examples/platform-monorepo`` and its templates, unchanged, on ``main`` and
        ``dev`` (the same commit); pull requests and pushes are made by the tests."""
        _copy_example(MONOREPO, path)
        repo = cls(path, pr_number=0, feature_branch="")
        repo._init("The platform monorepo, with the lmi-delivery workflows")
        repo.git("branch", "dev")
        repo.shas["dev"] = repo.shas["main"]
        return repo

    def seed_state(self, sandbox: SandboxServer, config: Config, env: str, commit: str,
                   extra: str = "") -> None:
        """Make ``env``'s Terraform state in the sandbox what applying ``commit``'s root (plus
        ``extra`` HCL) gives: real Terraform applies it locally, and the state it wrote is put
        where the root's S3 backend reads it. Its next plan of ``commit`` then has no changes
        but removing whatever ``extra`` declared."""
        work = Path(tempfile.mkdtemp(prefix="seed-", dir=self.path.parent))
        try:
            root = config.terraform.working_directory
            main = self.git("show", f"{commit}:{root}/main.tf")
            (work / "main.tf").write_text(main + "\n" + extra, encoding="utf-8")
            (work / "env.tfvars").write_text(
                self.git("show", f"{commit}:{root}/env/{env}.tfvars"), encoding="utf-8")
            terraform = [sys.executable, "-m", "lmi_delivery.terraform.embedded", f"-chdir={work}"]
            for args in (["init", "-input=false", "-no-color"],
                         ["apply", "-auto-approve", "-input=false", "-no-color",
                          "-var-file=env.tfvars"]):
                subprocess.run([*terraform, *args], check=True, capture_output=True,
                               env={**os.environ, "TF_IN_AUTOMATION": "1",
                                    "CHECKPOINT_DISABLE": "1"})
            backend = dict(item.split("=", 1) for item in config.terraform.backend_config)
            key = backend["key"].format(service=config.service, env=env, region=config.region)
            sandbox.client("s3").put_object(Bucket=backend["bucket"], Key=key,
                                            Body=(work / "terraform.tfstate").read_bytes())
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def check_out(self, ref: str) -> str:
        """Make ``ref`` the working copy's HEAD (act reads GITHUB_SHA, and the ref of events
        without one, from it); a branch name stays attached."""
        branches = self.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")
        if ref in branches.splitlines():
            self.git("switch", "--quiet", ref)
        else:
            self.git("switch", "--quiet", "--detach", ref)
        return self.git("rev-parse", "HEAD")


# -- the action under test and the runner's Python --------------------------------------------

def snapshot_action(dest: Path) -> Path:
    """This repository's working tree (tracked and new files, nothing ignored) at ``dest``:
    what ``org/lmi-delivery@v1`` resolves to. act copies a local repository into every job,
    and the project's ``.venv`` alone is hundreds of megabytes."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode("utf-8").split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def runner_python(venv: Path, action: Path, home: Path) -> Path:
    """A virtualenv for the runner, with the action's dependencies installed once (the index
    pip is configured with), so that each job's ``pip install`` of the action is quick.
    Returns its ``bin`` directory."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    bin_dir = venv / "bin"
    result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                             str(action)], env=clean_environ(home, path_front=bin_dir),
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cannot install the action into the runner's Python:\n"
                           f"{result.stdout}{result.stderr}")
    return bin_dir


# -- the sandbox ------------------------------------------------------------------------------

class SandboxServer:
    """``lmi-delivery sandbox serve --config …`` in a subprocess; :meth:`restart` resets it to
    its freshly provisioned state."""

    def __init__(self, config: Path, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.endpoint_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._starts = 0

    def start(self) -> None:
        self._starts += 1
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"sandbox-{self._starts}.log").open("w", encoding="utf-8")
        # Builds run with this environment, less the sandbox's own virtualenv (its directory
        # is first here): like real builds, they install the wheel the jobs hand them.
        env = clean_environ(home, path_front=Path(sys.executable).parent)
        process = subprocess.Popen(
            [sys.executable, "-m", "lmi_delivery.cli.commands.sandbox", "serve",
             "--config", str(self.config), "--port", "0"],  # it says which port it got
            stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=self.config.parent,
            start_new_session=True)
        self._process = process
        assert process.stdout is not None
        exports = {}
        for _ in range(4):
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox serve exited {process.wait()}:\n"
                                   f"{self.log_tail()}")
            key, _, value = line.strip().removeprefix("export ").partition("=")
            exports[key] = value
        self.endpoint_url = exports["AWS_ENDPOINT_URL"]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.workdir.glob("sandbox-*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(encoding="utf-8").splitlines()[-lines:])

    def client(self, service: str) -> Any:
        factory: Any = boto3.client  # typed per service literal; the name here is a str
        return factory(service, region_name=REGION, endpoint_url=self.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=BotoConfig(retries={"mode": "standard", "total_max_attempts": 2}))

    def builds(self, project: str) -> list[dict[str, Any]]:
        """Every build of ``project``, oldest first, as ``BatchGetBuilds`` describes it."""
        codebuild = self.client("codebuild")
        ids = codebuild.list_builds_for_project(projectName=project,
                                                sortOrder="ASCENDING")["ids"]
        if not ids:
            return []
        builds: list[dict[str, Any]] = codebuild.batch_get_builds(ids=ids)["builds"]
        return builds

    def invocations(self, function: str) -> list[dict[str, Any]]:
        """Every Invoke of ``function`` the sandbox answered (its control endpoint)."""
        query = urllib.parse.urlencode({"FunctionName": function})
        with urllib.request.urlopen(f"{self.endpoint_url}/_sandbox/invocations?{query}",
                                    timeout=10) as answer:
            found: list[dict[str, Any]] = json.load(answer)["Invocations"]
        return found

    def keys(self, bucket: str, prefix: str) -> list[str]:
        s3 = self.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def exported(build: Mapping[str, Any]) -> dict[str, str]:
    """A build's exported environment variables (``BatchGetBuilds``)."""
    return {v["name"]: v.get("value", "") for v in build.get("exportedEnvironmentVariables", [])}


# -- act --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepOutput:
    job: str
    job_id: str
    matrix: Mapping[str, Any]
    step: tuple[str, ...]
    """The step's id path: ``("plan",)`` for a job's step, ``("plan", "ci")`` inside an action."""
    name: str
    value: str


@dataclass
class ActRun:
    argv: list[str]
    returncode: int
    records: list[dict[str, Any]]
    log_path: Path
    seconds: float

    @property
    def text(self) -> str:
        """The log as act prints it without ``--json``: ``[job] message`` lines."""
        lines = []
        for record in self.records:
            job = record.get("job")
            message = str(record.get("msg", "")).rstrip("\n")
            lines.append(f"[{job}] {message}" if job else message)
        return "\n".join(lines)

    def tail(self, lines: int = 150) -> str:
        return "\n".join(self.text.splitlines()[-lines:])

    def outputs(self, name: str) -> list[StepOutput]:
        """Every ``set-output`` of ``name``, at every level (a job's steps and the steps inside
        the actions they use), in log order."""
        return [StepOutput(str(r.get("job")), str(r.get("jobID")), r.get("matrix") or {},
                           tuple(r.get("stepID") or ()), name, str(r.get("arg", "")))
                for r in self.records
                if r.get("command") == "set-output" and r.get("name") == name]

    def job_outputs(self, job_id: str, name: str) -> list[str]:
        """Values the job's own steps (not the steps inside actions) set for ``name``."""
        return [o.value for o in self.outputs(name) if o.job_id == job_id and len(o.step) == 1]

    @property
    def job_results(self) -> dict[str, str]:
        """Job name (``workflow/job``, with the matrix) -> ``success`` / ``failure``."""
        return {str(r["job"]).strip(): str(r["jobResult"]) for r in self.records
                if "jobResult" in r}

    def step_log(self, job_id: str) -> str:
        """What the job's steps printed (their raw output), in order."""
        return "".join(str(r.get("msg", "")) for r in self.records
                       if r.get("jobID") == job_id and r.get("raw_output"))


@dataclass
class Act:
    """Runs one workflow of :class:`ThrowawayRepo` with act; one instance per test module."""

    repo: ThrowawayRepo
    action: Path
    python_bin: Path
    github_url: str
    workdir: Path
    runs: int = 0

    def argv(self, event: str, workflow: str, payload_path: Path, run_id: str,
             sandbox_url: str) -> list[str]:
        local = {**STANDIN_ACTIONS, ACTION_UNDER_TEST: self.action}
        argv = [str(ACT), event,
                "--workflows", str(self.repo.path / ".github" / "workflows" / workflow),
                "--directory", str(self.repo.path),
                "--eventpath", str(payload_path),
                "-P", "ubuntu-latest=-self-hosted",
                "--action-offline-mode", "--no-cache-server", "--no-skip-checkout",
                "--action-cache-path", str(self.workdir / "act-cache"),
                "--concurrent-jobs", "2",
                "--defaultbranch", "main",
                "--actor", AUTHOR,
                "--json"]
        for name, path in local.items():
            argv += ["--local-repository", f"{name}={path}"]
        env = {"GITHUB_API_URL": self.github_url, "GITHUB_RUN_ID": run_id,
               "GITHUB_RUN_NUMBER": run_id, "LMI_E2E_ORIGIN": str(self.repo.path),
               "LMI_E2E_PYTHON": str(self.python_bin),
               "LMI_E2E_AWS_ENDPOINT_URL": sandbox_url}
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        for key, value in VARIABLES.items():
            argv += ["--var", f"{key}={value}"]
        argv += ["--secret", f"GITHUB_TOKEN={TOKEN}"]
        return argv

    def run(self, event: str, workflow: str, payload: Mapping[str, Any], sandbox_url: str,
            *, head: str, timeout: float = ACT_TIMEOUT_SECONDS) -> ActRun:
        """``act EVENT`` for ``workflow`` with the working copy's HEAD at ``head``."""
        self.runs += 1
        run_id = str(4200 + self.runs)
        run_dir = self.workdir / f"run-{self.runs}-{event}-{Path(workflow).stem}"
        run_dir.mkdir(parents=True)
        home = run_dir / "home"
        home.mkdir()
        payload_path = run_dir / "event.json"
        payload_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        self.repo.check_out(head)
        argv = self.argv(event, workflow, payload_path, run_id, sandbox_url)
        (run_dir / "argv.json").write_text(json.dumps(argv, indent=2), encoding="utf-8")
        log_path = run_dir / "act.log.jsonl"
        started = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log:
            # cwd: an empty directory, so act finds no .env, .secrets, .vars, .input or .actrc.
            process = subprocess.Popen(argv, cwd=run_dir, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env=clean_environ(home))
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                code = -1
        seconds = time.monotonic() - started
        records = list(_records(log_path))
        if code == -1:
            records.append({"msg": f"act timed out after {timeout:.0f} s and was killed"})
        return ActRun(argv, code, records, log_path, seconds)


@dataclass
class World:
    """Everything a workflow test drives and reads (the ``world`` fixture)."""

    repo: ThrowawayRepo
    config: Config
    sandbox: SandboxServer
    github: FakeGithub
    act: Act
    node_modules: Path
    _clean_after_runs: int = 0

    def reset(self) -> World:
        """The sandbox freshly provisioned (no builds, stored plans or Terraform state: it is
        restarted if act ran since) and the fake API emptied."""
        if self.act.runs != self._clean_after_runs:
            self.sandbox.restart()
            self._clean_after_runs = self.act.runs
        self.github.reset()
        return self


@dataclass(frozen=True)
class Runner:
    """What every act world shares: the action under test and the runner's Python."""

    action: Path
    python_bin: Path


def world_of(repo: ThrowawayRepo, runner: Runner, base: Path,
             node_tools: Path) -> Iterator[World]:
    """A world around ``repo``: the fake GitHub API and a sandbox serving ``repo``'s config."""
    with fake_github.serve(REPOSITORY, TOKEN) as github, \
            SandboxServer(repo.config, base / "sandbox") as sandbox:
        act = Act(repo, runner.action, runner.python_bin, github.url, base / "act")
        yield World(repo, load(repo.config), sandbox, github, act, node_tools)


def _kill_group(process: subprocess.Popen[Any]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _records(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"msg": line}
        yield record if isinstance(record, dict) else {"msg": line}
