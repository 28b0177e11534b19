"""Print the ``BY_CATEGORY`` table of ``lmi_delivery/gates/checkov_severities.py`` from checkov.

checkov reports a severity only with a Prisma Cloud key; without one, lmi-delivery maps check
ids to severities itself: a severity per checkov category, and a severity chosen check by check
for the checks that test what lmi-delivery's own rules test (``CHOSEN`` in that module). This
script lists every Terraform AWS check (``CKV_AWS_*``, ``CKV2_AWS_*``) of the checkov it runs
under, grouped by the check's first category, as Python source to paste into the module when
checkov adds checks. It needs checkov importable, which cannot share lmi-delivery's virtualenv
(checkov pins ``boto3==1.35.49``; lmi-delivery needs ``boto3>=1.44``):

    python3 -m venv /tmp/checkov && /tmp/checkov/bin/pip install checkov==3.3.30
    /tmp/checkov/bin/python benchmarks/checkov_severity_table.py > /tmp/table.py
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections import defaultdict


def checks() -> dict[str, str]:
    """check id → its first category (upper case), for every Terraform AWS check."""
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    found: dict[str, str] = {}
    for registry in (resource_registry, data_registry, provider_registry):
        for entries in registry.checks.values():
            for check in entries:
                if check.id.startswith(("CKV_AWS_", "CKV2_AWS_")):
                    found.setdefault(check.id, sorted(c.name for c in check.categories)[0])
    graph = get_graph_checks_registry("terraform")
    graph.load_checks()
    for check in graph.checks:
        if check.id.startswith("CKV2_AWS_"):
            category = str(getattr(check, "category", "") or "GENERAL_SECURITY")
            found.setdefault(check.id, category.split(".")[-1])
    return {k: v.upper() for k, v in found.items()}


def _order(check_id: str) -> tuple[int, int]:
    match = re.match(r"CKV(2?)_AWS_(\d+)$", check_id)
    return (1 if match and match.group(1) else 0, int(match.group(2)) if match else 0)


def main() -> int:
    import checkov.version

    groups: dict[str, list[str]] = defaultdict(list)
    for check_id, category in checks().items():
        groups[category].append(check_id)
    out = [f"#: Every Terraform AWS check of checkov {checkov.version.version}, by its category.",
           "BY_CATEGORY: dict[str, tuple[str, ...]] = {"]
    for category in sorted(groups):
        ids = " ".join(f'"{i}",' for i in sorted(groups[category], key=_order))
        out.append(f'    "{category}": (')
        out += textwrap.wrap(ids, 96, initial_indent=" " * 8, subsequent_indent=" " * 8)
        out.append("    ),")
    out.append("}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
