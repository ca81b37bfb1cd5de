"""perfpilot surfaces: the headless CLI (and later the language server); conversion only."""
