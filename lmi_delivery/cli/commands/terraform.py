"""``lmi-delivery terraform ...``: the click layer over :mod:`~lmi_delivery.terraform.install`
(``install``), :mod:`~lmi_delivery.terraform.plan_build` (``plan``) and
:mod:`~lmi_delivery.terraform.apply_build` (``apply``).

The environment is read here, once, and handed down; boto3 is imported only by the factory the
``plan`` and ``apply`` callbacks call, never at import time. What a build prints (Terraform's
streamed output, the report, the exported summary, an error) first loses the values of the
build's ``codebuild.secrets`` (:class:`~lmi_delivery.redact.Redactor`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lmi_delivery.aws.errors import translated
from lmi_delivery.errors import LmiError
from lmi_delivery.redact import Redactor
from lmi_delivery.terraform.install import DEFAULT_BASE_URL, DEFAULT_VERSION, install

if TYPE_CHECKING:
    from lmi_delivery.terraform.build_services import BuildRequest, BuildServices


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/lmi-delivery/terraform``, else ``~/.cache/...``; None without either."""
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else ""
    )
    return Path(base) / "lmi-delivery" / "terraform" if base else None


@click.group("terraform")
def terraform_group() -> None:
    """Install a verified Terraform; run the plan and apply builds.

    `terraform plan` and `terraform apply` are what the CodeBuild builds run.
    """


@terraform_group.command("install")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True,
              help="Exact Terraform version.")
@click.option("--dir", "dest_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".lmi-delivery/bin"), show_default=True,
              help="Directory to put the terraform binary in.")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where releases live (a mirror must serve the same signed files).")
@click.option("--embedded", is_flag=True,
              help="Write a shim running the embedded Terraform instead of downloading.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache of verified releases. Default: $XDG_CACHE_HOME/lmi-delivery/terraform.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def install_command(version: str, dest_dir: Path, base_url: str, embedded: bool,
                    cache_dir: Path | None, no_cache: bool) -> None:
    """Download Terraform, verify HashiCorp's signature and the sha256, install it.

    Nothing is written to --dir unless the SHA256SUMS signature verifies with HashiCorp's key
    (shipped with lmi-delivery) and the archive matches its signed checksum. Prints the path
    of the installed binary.
    """
    cache = None if no_cache else cache_dir or default_cache_dir(os.environ)
    path = install(version, dest_dir=dest_dir, base_url=base_url, cache_dir=cache,
                   embedded=embedded)
    click.echo(str(path))


def _build_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--env", "env_name", required=True, envvar="LMI_DELIVERY_ENV",
                     help="The environment (default: $LMI_DELIVERY_ENV)."),
        click.option("--config", "config_path", default="lmi-delivery.yml", show_default=True,
                     type=click.Path(path_type=str),
                     help="The lmi-delivery configuration file; its directory is the repo root."),
        click.option("--commit", help="The commit (default: CodeBuild's "
                     "$CODEBUILD_RESOLVED_SOURCE_VERSION, else $LMI_DELIVERY_COMMIT; every "
                     "one given must agree)."),
        click.option("--terraform", "terraform_bin", default="terraform", show_default=True,
                     help="The Terraform binary: a path, or a name looked up on PATH."),
        click.option("--exports", "exports_path", type=click.Path(dir_okay=False,
                                                                  path_type=Path),
                     help="Also write the results as KEY=VALUE lines (shell-quoted values) to "
                          "this file, for the buildspec to source and export."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _request(env_name: str, config_path: str, commit: str | None,
             terraform_bin: str, allow_older: bool = False) -> BuildRequest:
    from lmi_delivery.terraform.build_services import BuildRequest

    return BuildRequest(config_path=config_path, env_name=env_name, commit=commit,
                        terraform=terraform_bin, allow_older=allow_older)


@contextlib.contextmanager
def _verdict(exports_path: Path | None) -> Iterator[None]:
    """On failure, still write the verdict for the buildspec to export: the orchestrator reads
    ``LMI_VERDICT`` from CodeBuild's record of the build, never from its log."""
    from lmi_delivery.errors import GateRefused, LmiError
    from lmi_delivery.terraform.build_services import write_exports

    try:
        yield
    except LmiError as exc:
        if exports_path is not None:
            verdict = "refused" if isinstance(exc, GateRefused) else "failed"
            write_exports(exports_path, {"LMI_VERDICT": verdict,
                                         "LMI_VERDICT_DETAIL": str(exc)[:1000]})
        raise


def _log(line: str) -> None:
    click.echo(line, err=True)


#: Exports holding free text; the others (hashes, URLs, flags) are passed on byte for byte.
_TEXT_EXPORTS = frozenset({"LMI_PLAN_SUMMARY"})


class _Redaction:
    """The build's secret values taken out of what it prints. The config names the secrets, so
    they are known once it is loaded (:meth:`learn`); nothing is printed before that."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.redact = Redactor()

    def learn(self, services: BuildServices) -> BuildServices:
        self.redact = Redactor.for_build(self.environ, services.config)
        return services

    def log(self, line: str) -> None:
        _log(self.redact(line))

    def exports(self, values: Mapping[str, str]) -> dict[str, str]:
        return {k: self.redact(v) if k in _TEXT_EXPORTS else v for k, v in values.items()}

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except LmiError as exc:
            self.redact.error(exc)
            raise


@terraform_group.command("plan")
@_build_options
def plan_command(env_name: str, config_path: str, commit: str | None, terraform_bin: str,
                 exports_path: Path | None) -> None:
    """The plan build: init, validate, plan, show; store the plan and its metadata.

    The plan file and a metadata document (the commit, environment, working directory,
    Terraform version, config digest and the summary) go to the artifacts bucket at keys that
    hold the plan's sha256, never overwritten: a deploy plan when the build was started for a
    deploy (LMI_DELIVERY_MODE=deploy) in the plan project, a review plan under the review prefix
    otherwise. Terraform's output goes to stderr, the summary to stdout. --exports writes
    LMI_VERDICT, LMI_PLAN_KIND, LMI_PLAN_URL, LMI_PLAN_METADATA_URL, LMI_PLAN_SHA256,
    LMI_PLAN_SUMMARY and LMI_PLAN_HAS_CHANGES (LMI_VERDICT and LMI_VERDICT_DETAIL on failure).
    """
    from lmi_delivery.terraform.build_services import make_services, write_exports
    from lmi_delivery.terraform.plan_build import plan_build

    environ = dict(os.environ)
    out = _Redaction(environ)
    # An AWS failure is an LmiError too: the verdict is written, the message redacted.
    with _verdict(exports_path), out.errors(), translated():
        services = out.learn(make_services(
            _request(env_name, config_path, commit, terraform_bin), environ, stream=out.log))
        outcome = plan_build(services)
    if exports_path is not None:
        write_exports(exports_path, out.exports(outcome.exports()))
    click.echo(out.redact(outcome.report()), nl=False)


@terraform_group.command("apply")
@_build_options
@click.option("--allow-older", is_flag=True, envvar="LMI_DELIVERY_ALLOW_OLDER",
              help="Apply a commit behind the last applied one or not the branch's head (a "
                   "deliberate roll-back); the apply history records it.")
def apply_command(env_name: str, config_path: str, commit: str | None, terraform_bin: str,
                  exports_path: Path | None, allow_older: bool) -> None:
    """The apply build: apply exactly the plan the plan build made for this commit.

    LMI_PLAN_BUILD_ID and LMI_PLAN_SHA256 name the plan build and the sha256 it exported; the
    build's own CodeBuild record must confirm them (this environment's plan project, SUCCEEDED,
    this commit, a deploy event). Refused (exit 3, nothing applied) for a non-deploy event, any
    binding mismatch, a missing plan, a plan already applied, a commit that is not the head of
    the environment's branch or is behind the last applied commit (unless --allow-older), or a
    plan Terraform calls stale. The environment's apply lock is held while Terraform runs.
    Nothing is re-planned. --exports writes LMI_VERDICT, LMI_APPLIED_PLAN_SHA256, LMI_APPLIED_AT
    and LMI_PLAN_SUMMARY.
    """
    from lmi_delivery.terraform.apply_build import apply_build
    from lmi_delivery.terraform.build_services import make_services, write_exports

    environ = dict(os.environ)
    out = _Redaction(environ)
    # An AWS failure is an LmiError too: the verdict is written, the message redacted.
    with _verdict(exports_path), out.errors(), translated():
        services = out.learn(make_services(
            _request(env_name, config_path, commit, terraform_bin, allow_older),
            environ, stream=out.log))
        outcome = apply_build(services)
    if exports_path is not None:
        write_exports(exports_path, out.exports(outcome.exports()))
    click.echo(out.redact(outcome.report()), nl=False)
