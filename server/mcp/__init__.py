"""The MCP server (`perfpilot mcp`): tools, resources and prompts for coding agents."""
