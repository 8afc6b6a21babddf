"""The host side of the bridge: the dispatcher every execution's tool calls reach, and tool results as values."""
