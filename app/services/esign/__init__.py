"""Electronic signatures (Part 11): ceremonies, signers, passkeys, devices, re-verification."""
