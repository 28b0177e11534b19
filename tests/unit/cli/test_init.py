"""`lmi-delivery init`: the starter files validate and lint clean, nothing is overwritten."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from lmi_delivery.bootstrap import build_plane
from lmi_delivery.bootstrap.plane import resolve_repository
from lmi_delivery.cli.commands.init import WORKFLOWS, init_command, template
from lmi_delivery.config import load
from lmi_delivery.doctor import diagnose
from lmi_delivery.errors import LmiError

ROOT = Path(__file__).resolve().parents[3]


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = init_command.main(list(args), prog_name="init", standalone_mode=False)
    except LmiError as error:
        click.echo(str(error), err=True)
        code = error.exit_code
    out, err = capsys.readouterr()
    return int(code or 0), out, err


def test_init_writes_a_repository_that_validates_and_lints_clean(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "Agent Platform"
    code, out, _ = invoke(capsys, "--dir", str(target))
    assert code == 0
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert written == sorted([
        "lmi-delivery.yml", *(f".github/workflows/{w}" for w in WORKFLOWS),
        "terraform/main.tf", "terraform/env/dev.tfvars", "terraform/env/prod.tfvars"])
    assert out.count("wrote ") == len(written)
    config = load(target / "lmi-delivery.yml")  # what `lmi-delivery validate` checks
    assert config.service == "agent-platform"
    assert config.codebuild.artifacts == "s3://agent-platform-delivery-artifacts/plans"
    assert diagnose(config) == []
    assert 'service     = "agent-platform"' in (target / "terraform/env/dev.tfvars").read_text()
    # The deploy flow it writes, and says: plan once, apply exactly that plan build's plan.
    assert "command: apply" in (target / ".github/workflows/deploy.yml").read_text()
    assert "applies exactly that plan build's plan (`command: apply`)" in out


def test_comments_survive_and_only_the_service_changes(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    invoke(capsys, "--dir", str(tmp_path), "--service", "billing")
    original = template("lmi-delivery.yml").splitlines()
    written = (tmp_path / "lmi-delivery.yml").read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(original, written, strict=True) if a != b]
    assert [b.split("#")[0].strip() for _, b in changed] == [
        "service: billing", "- bucket=billing-delivery-artifacts-tfstate",
        "artifacts: s3://billing-delivery-artifacts/plans"]
    # the end-of-line comments are still there
    assert all("#" in b for a, b in changed if "#" in a)
    assert sum(line.lstrip().startswith("#") for line in written) == \
        sum(line.lstrip().startswith("#") for line in original)


def test_refuses_to_overwrite_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    existing = tmp_path / ".github/workflows/deploy.yml"
    existing.parent.mkdir(parents=True)
    existing.write_text("mine\n", encoding="utf-8")
    code, out, err = invoke(capsys, "--dir", str(tmp_path))
    assert code == 2
    assert out == ""
    assert str(existing) in err
    assert "--force" in err
    assert not (tmp_path / "lmi-delivery.yml").exists()
    assert existing.read_text(encoding="utf-8") == "mine\n"
    code, _, _ = invoke(capsys, "--dir", str(tmp_path), "--force")
    assert code == 0
    assert existing.read_text(encoding="utf-8") == template("workflows/deploy.yml")


def test_existing_terraform_root_is_kept(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform/main.tf").write_text("# mine\n", encoding="utf-8")
    code, out, _ = invoke(capsys, "--dir", str(tmp_path))
    assert code == 0
    assert "kept " in out
    assert (tmp_path / "terraform/main.tf").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "terraform/env").exists()


def test_bad_service_name_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = invoke(capsys, "--dir", str(tmp_path), "--service", "no spaces")
    assert code == 2
    assert "--service" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", WORKFLOWS)
def test_packaged_workflows_are_the_published_templates(name: str) -> None:
    published = (ROOT / "workflows" / name).read_text(encoding="utf-8")
    assert template(f"workflows/{name}") == published, (
        f"lmi_delivery/templates/workflows/{name} differs from workflows/{name}: copy it over")



def test_the_config_is_wired_to_the_backend_bootstrap_creates(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = invoke(capsys, "--dir", str(tmp_path), "--service", "billing",
                          "--repository", "acme/billing")
    assert code == 0
    assert "no GitHub repository found" not in out
    config = load(tmp_path / "lmi-delivery.yml")
    assert config.github.repository == "acme/billing"
    for env in config.environments.values():
        plane = build_plane(config, env, repository=resolve_repository(config, None),
                            account="123456789012")
        assert tuple(config.terraform.backend_config) == plane.backend_config
        assert {p.name for p in plane.projects} == {
            f"billing-{env.name}-tf-{stage}" for stage in ("review", "plan", "apply")} | {
            f"billing-{env.name}-post-deploy"}
    main_tf = (tmp_path / "terraform/main.tf").read_text(encoding="utf-8")
    assert 'backend "s3" {}' in main_tf  # every setting comes from backend_config
    assert diagnose(config) == []  # LMD009 sees the lock file in backend_config


def test_the_repository_comes_from_a_github_origin(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for remote, expected in (("git@github.com:acme/shop.git", "acme/shop"),
                             ("https://github.com/acme/shop", "acme/shop"),
                             ("https://gitlab.com/acme/shop.git", None)):
        target = tmp_path / expected_dir(remote)
        subprocess.run(["git", "init", "-q", str(target)], check=True)
        subprocess.run(["git", "-C", str(target), "remote", "add", "origin", remote], check=True)
        code, out, _ = invoke(capsys, "--dir", str(target))
        assert code == 0
        assert load(target / "lmi-delivery.yml").github.repository == expected, remote
        assert ("no GitHub repository found" in out) == (expected is None)


def expected_dir(remote: str) -> str:
    return re.sub(r"[^a-z]+", "-", remote)


def test_a_bad_repository_is_refused_and_nothing_is_written(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = invoke(capsys, "--dir", str(tmp_path), "--repository", "not a repo")
    assert code == 2
    assert "--repository 'not a repo' is not OWNER/REPO" in err
    assert list(tmp_path.iterdir()) == []
