"""The delivery plan: what a run does, decided before anything is done.

It owns the CI context (:mod:`.context`, read from GitHub, CodeBuild or flags by
:mod:`.events`), the stage policy (:mod:`.policy`: which stages run for an event and why), the
typed steps (:mod:`.steps`), the one planner that turns a config, an environment and a context
into steps (:mod:`.planner`, with the post-deploy step builders of :mod:`.release_steps`), the
request that assembles those inputs (:mod:`.prepare`) and the renderings of a plan
(:mod:`.render`). The dry run prints these steps and the builds execute these same steps.
It never starts a build or changes anything; only :mod:`.prepare` reads AWS (where aliases
point now), read-only, when asked.
"""
