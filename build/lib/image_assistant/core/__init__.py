"""The plain core: accounts, pairing, sync and gallery logic; no web framework here."""
