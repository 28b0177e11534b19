"""The gates over a Terraform plan: the security gate and the LMI validation gate.

It owns reading plan documents (:mod:`.plan_load`, :mod:`.plan_shape`, :mod:`.plan_json`), the
built-in rules (``security*``, ``lmi_*``, :mod:`.iam_documents`), external scanners
(:mod:`.scanners`) and evaluating a gate into a report (:mod:`.evaluate`). It never decides which
stage runs (that is :mod:`lmi_delivery.plan.policy`) and never writes to GitHub or AWS; a gate
reads AWS only through an injected client, to count versions a plan would strand.
"""
