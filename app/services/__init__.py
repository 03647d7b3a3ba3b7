"""Every business rule and every state change lives here; routes and the CLI only call in."""
