"""Terraform: verified install, the embedded Terraform, the runner, plan summaries.

Modules: ``install`` (download + signature + sha256, atomic install), ``verify``, ``embedded``
(``python -m lmi_delivery.terraform.embedded``), ``runner`` (``TerraformRunner``, ``StalePlan``),
``summary`` (``summarize``), ``command`` (the ``terraform`` click group). Kept import-free so
the embedded Terraform starts fast.
"""
