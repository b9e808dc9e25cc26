"""What an operator runs: settings, deployment files, mount, migrate-storage, scale-out."""
