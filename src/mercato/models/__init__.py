"""Model registry (versions, the live alias, rollback) and the slot a server answers from."""
