"""Image Assistant's tests: helpers in `helpers/`, backend contracts in `contracts/`, a folder per area."""
