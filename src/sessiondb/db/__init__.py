"""Storage: the contract, its domain errors and the backends.

``SqliteDb`` and ``PostgresDb`` share one SQL implementation; ``InMemoryDb`` is the reference
backend for tests. Import them from here.
"""
