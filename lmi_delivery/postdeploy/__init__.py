"""After an apply, on Lambda: publish versions, scale and warm them, move aliases, prune.

It owns the post-deploy sequence (:mod:`.sequence`), each step's plan and execution
(:mod:`.publish`, :mod:`.headroom`, :mod:`.scale`, :mod:`.warm` with :mod:`.schedule`,
:mod:`.alias` with :mod:`.rollout`), the record of what served (:mod:`.history`) with
:mod:`.rollback` and :mod:`.status`, the deploy report, and the pruner (:mod:`.prune`).
Clients are injected; it never reads the environment, runs Terraform or talks to GitHub.
"""
