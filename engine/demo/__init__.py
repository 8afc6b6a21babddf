"""A code-mode demo against two small MCP servers that ship with engine (no API key needed)."""
