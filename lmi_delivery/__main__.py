"""``python -m lmi_delivery`` is the ``lmi-delivery`` command."""

from lmi_delivery.cli import main

main()
