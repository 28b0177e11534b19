"""Terraform: verified install, the embedded Terraform, running it, and the plan hand-off.

Modules: ``install`` (download + signature + sha256, atomic install), ``verify``, ``embedded``
(``python -m lmi_delivery.terraform.embedded``), ``invoke`` (``TerraformRunner``,
``StalePlan``: the only place Terraform runs), ``summary`` (``summarize``), the plan hand-off
(``handoff``, ``binding``, ``lineage``, ``lock``) and the plan and apply builds (``builds``).
It never decides whether a stage runs. Kept import-free so the embedded Terraform starts fast.
"""
