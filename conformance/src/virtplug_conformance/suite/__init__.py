"""The conformance checks (collected by the plugin; parametrised by target)."""
