"""The delivery plan: what a run does, decided before anything is done. No I/O.

It owns the CI context (:mod:`.events`), the stage policy (:mod:`.policy`: which stages run for
an event and why), the typed steps (:mod:`.steps`), the one planner that turns a config,
an environment and a context into steps (:mod:`.planner`), the request that assembles those
inputs (:mod:`.prepare`) and the renderings of a plan (:mod:`.render`). The dry run prints these
steps and the builds execute these steps; nothing here starts a build or calls AWS, except
:mod:`.prepare`, which reads live alias state through an injected client when asked.
"""
