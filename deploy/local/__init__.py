"""The local runner: broker, four services and the gateway on this machine, SQLite by default."""
