"""``lmi-delivery init``: start a repository with a configuration, workflows and a Terraform root.

Writes ``lmi-delivery.yml`` (read and written back with ruamel.yaml's round-trip mode, so every
comment of the template survives), the four workflows under ``.github/workflows/`` and, when the
repository has no Terraform root yet, a minimal ``terraform/`` with one variable file per
environment, so that ``lmi-delivery validate`` and ``lmi-delivery doctor`` pass at once. The
config names the state backend ``lmi-delivery bootstrap`` creates (its ``backend_config``
lines) and, when it is known (``--repository``, else the ``origin`` remote on GitHub), the
repository the bootstrapped roles trust.
An existing file is never overwritten without ``--force``: init refuses (exit 2), lists them
and writes nothing.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click
from ruamel.yaml import YAML

from lmi_delivery.errors import UsageError

TEMPLATES = "lmi_delivery.templates"
CONFIG = "lmi-delivery.yml"
WORKFLOWS = ("pull-request.yml", "deploy.yml", "prune.yml", "drift.yml")
TERRAFORM = ("terraform/main.tf", "terraform/env/dev.tfvars", "terraform/env/prod.tfvars")
TEMPLATE_SERVICE = "my-service"
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: ``https://github.com/OWNER/REPO(.git)`` or ``git@github.com:OWNER/REPO(.git)``.
_GITHUB_REMOTE = re.compile(
    r"(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+?)(?:\.git)?/?")


@dataclass(frozen=True)
class Planned:
    path: str
    """Relative to the target directory, with ``/`` separators."""
    content: str


def template(name: str) -> str:
    return resources.files(TEMPLATES).joinpath(name).read_text(encoding="utf-8")


def default_service(directory: Path) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")
    return slug[:64] or TEMPLATE_SERVICE


def github_repository(directory: Path) -> str | None:
    """OWNER/REPO of the ``origin`` remote of the git repository at ``directory``, if on GitHub."""
    try:
        remote = subprocess.run(["git", "-C", str(directory), "remote", "get-url", "origin"],
                                capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _GITHUB_REMOTE.fullmatch(remote.stdout.strip()) if remote.returncode == 0 else None
    return match.group("repo") if match else None


def render_config(service: str, repository: str | None = None) -> str:
    """The starter configuration for ``service``, its comments kept; with ``repository``, a
    ``github:`` section naming it."""
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()  # round-trip: comments, quotes and flow style survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(template(CONFIG))
    data["service"] = service
    data["codebuild"]["artifacts"] = f"s3://{service}-delivery-artifacts/plans"
    backend = data["terraform"]["backend_config"]
    backend[0] = f"bucket={service}-delivery-artifacts-tfstate"
    if repository is not None:
        github = CommentedMap(repository=repository)
        github.yaml_add_eol_comment("the repository the bootstrapped roles trust", "repository")
        data.insert(list(data).index("naming") + 1, "github", github)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def planned_files(target: Path, service: str,
                  repository: str | None = None) -> tuple[list[Planned], bool]:
    """What init writes, and whether the Terraform scaffold is among it."""
    files = [Planned(CONFIG, render_config(service, repository))]
    files += [Planned(f".github/workflows/{name}", template(f"workflows/{name}"))
              for name in WORKFLOWS]
    scaffold = not any((target / "terraform").glob("*.tf"))
    if scaffold:
        files += [Planned(path, template(path).replace(TEMPLATE_SERVICE, service))
                  for path in TERRAFORM]
    return files, scaffold


def init_repository(target: Path, service: str | None = None, force: bool = False,
                    repository: str | None = None) -> list[str]:
    """Write the starter files into ``target``; the relative paths written, in order."""
    from lmi_delivery.bootstrap.plane import REPOSITORY

    name = service or default_service(target)
    if not _SERVICE.fullmatch(name):
        raise UsageError(f"--service {name!r}: use letters, digits, '-' and '_', starting with a "
                         "letter or digit (at most 64 characters)")
    if repository is not None and not REPOSITORY.fullmatch(repository):
        raise UsageError(f"--repository {repository!r} is not OWNER/REPO")
    files, _ = planned_files(target, name, repository)
    existing = [f.path for f in files if (target / f.path).exists()]
    if existing and not force:
        listed = "\n".join(f"  {target / p}" for p in existing)
        raise UsageError(f"refusing to overwrite existing files (use --force to replace them):"
                         f"\n{listed}")
    for planned in files:
        path = target / planned.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(planned.content, encoding="utf-8")
    return [f.path for f in files]


@click.command("init")
@click.option("--dir", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The repository to start (created if missing).")
@click.option("--service", help="The service name (default: the directory's name).")
@click.option("--repository", metavar="OWNER/REPO",
              help="The GitHub repository (default: the origin remote's, if on GitHub).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init_command(directory: Path, service: str | None, repository: str | None,
                 force: bool) -> None:
    """Write a starter config, four workflows and a Terraform root.

    \b
    Writes lmi-delivery.yml, .github/workflows/{pull-request,deploy,prune,drift}.yml and, if
    terraform/ holds no .tf file yet, terraform/main.tf with env/dev.tfvars and env/prod.tfvars.
    Existing files are left alone unless --force is given: init then writes nothing and exits 2.
    The config's state backend is the one `lmi-delivery bootstrap` creates; its
    github.repository (--repository, else the origin remote) is what the roles trust.
    """
    found = repository or (github_repository(directory) if directory.is_dir() else None)
    written = init_repository(directory, service, force, found)
    for path in written:
        click.echo(f"wrote {directory / path}")
    if not any(p.startswith("terraform/") for p in written):
        click.echo(f"kept {directory / 'terraform'}: it already holds Terraform")
    click.echo("deploy flow: pull requests plan in the review project and never apply; a push "
               "plans once (deploy.yml's plan job), and its approved job applies exactly that "
               "plan build's plan (`command: apply`), then post-deploys, in CodeBuild")
    if found is None:
        click.echo("no GitHub repository found (no --repository, no origin on GitHub): set "
                   "github.repository (OWNER/REPO) in lmi-delivery.yml before bootstrapping")
    click.echo("next: edit lmi-delivery.yml, run `lmi-delivery validate` and `lmi-delivery "
               "doctor`, then set up the account: `lmi-delivery bootstrap --env dev "
               "--account-id ACCOUNT --apply` and the GitHub side with `lmi-delivery bootstrap "
               "--env dev --github-commands`")
