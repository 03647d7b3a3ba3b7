"""Pages of the core area: home, audit trail, health, PWA shell."""
