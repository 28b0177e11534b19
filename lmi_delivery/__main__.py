"""``python -m lmi_delivery`` is the ``lmi-delivery`` command."""

from lmi_delivery.cli.main import main

main()
