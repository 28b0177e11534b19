"""One module per command group of ``lmi-delivery``, imported only when that command runs.

Each module owns option parsing and rendering for its commands and nothing else; the work is a
call into ``plan``, ``execute``, ``terraform``, ``postdeploy``, ``gates``, ``doctor``,
``github``, ``sandbox`` or ``selfdist``. It never talks to AWS or GitHub directly.
"""
