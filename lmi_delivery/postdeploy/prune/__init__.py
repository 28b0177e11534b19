"""The pruner: delete old function versions without ever deleting one that can still serve.

It owns the account snapshot (:mod:`.state`, read by :mod:`.snapshot`), the pure decision
(:mod:`.decision` over :mod:`.types`), its execution paced by the shared rate budget
(:mod:`.execute`), LMI's asynchronous deletions and provider retirement (:mod:`.release`),
reports (:mod:`.report`), the entry points (:mod:`.api`) and one run as the CLI and the
scheduled handler do it (:mod:`.run`). It never acts on an ambiguous snapshot: a version it
cannot classify is kept.
"""
