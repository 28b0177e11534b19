"""The sandbox's Lambda beyond moto: Lambda Managed Instances as AWS documents them.

It owns capacity providers (:mod:`.capacity_providers`), functions bound to them
(:mod:`.functions`), versions and their Pending→Active lifecycle (:mod:`.versions`), aliases
(:mod:`.aliases`), scaling configs (:mod:`.scaling`), invocations (:mod:`.invoke`) and
permissions (:mod:`.permissions`). Where it differs from AWS, AWS is right; it never imports
production code paths, so it cannot agree with a bug by construction.
"""
