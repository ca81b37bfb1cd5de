"""perfpilot tools: typed, UI-free operations (load a profile, map it to source, rank hot code)."""
