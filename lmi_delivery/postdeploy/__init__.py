"""After an apply, on Lambda: publish versions, move aliases, scale, warm and prune.

It owns the post-deploy sequence (:mod:`.sequence`), each step's plan and execution
(:mod:`.publish`, :mod:`.alias` with :mod:`.canary`, :mod:`.scale`, :mod:`.warm` with
:mod:`.schedule`), the record of what served (:mod:`.history`) with :mod:`.rollback` and
:mod:`.status`, the deploy report, and the pruner (:mod:`.prune`).
Clients are injected; it never reads the environment, runs Terraform or talks to GitHub.
"""
