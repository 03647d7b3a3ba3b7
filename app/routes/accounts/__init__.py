"""Pages of the accounts area: sign-in, account, users."""
