"""The perfpilot language server (pygls): handlers convert, logic lives in perfpilot.tools."""
