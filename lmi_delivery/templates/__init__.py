"""Files ``lmi-delivery init`` writes into a repository (package data, read with importlib)."""
