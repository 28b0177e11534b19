"""Speaking GitHub Actions: ``lmi-delivery ci`` and what it writes back to the runner.

``context`` reads the inputs and the runner's files once; ``pipeline`` and ``tasks`` run the
command; ``outputs`` (``$GITHUB_OUTPUT``), ``summary`` (``$GITHUB_STEP_SUMMARY``),
``annotations`` and ``masks`` (workflow commands), ``comments`` (one pull request comment per
environment, updated in place), ``rest`` (a small REST client) and ``approval`` (the approved
deployment check) say how it went. It never makes an AWS call the run path does not make.
"""
