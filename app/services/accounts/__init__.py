"""People and their access: accounts, roles, sign-in, what each home shows."""
