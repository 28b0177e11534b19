"""The side-by-side benchmark's parts (``benchmarks/side_by_side.py`` runs them).

``world``: the prune world every contestant meets, rebuilt identically for each, the deploy that
publishes while a contestant runs, and the oracle that judges what each left. ``measure``: the
calls and throttles each contestant made, read from the sandbox's journal, and the lower bound
they imply at 15 requests/s. ``prune_race``: lmi-delivery and the peers (``benchmarks/peers``),
one after another against the same sandbox, limiter and latency. ``post_deploy``: post-deploy
of N functions on shared providers.
"""
