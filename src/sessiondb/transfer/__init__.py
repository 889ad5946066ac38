"""Data in and out of a store: the export format, export, import, copy, and reading Agno's databases.

It sits between ``db`` and the interfaces: it uses the storage contract only (never ``api`` or
``cli``), and ``api``/``cli`` call it.

- :mod:`~sessiondb.transfer.format`: the JSON Lines format, line by line (pure).
- :mod:`~sessiondb.transfer.exporter`: streaming an export out of a store; gzip files.
- :mod:`~sessiondb.transfer.importer`: writing sessions into a store in batches by a conflict policy.
- :mod:`~sessiondb.transfer.copy`: store to store, resumable, with a count check.
- :mod:`~sessiondb.transfer.agno`: the sessions of an Agno database (2.x and 3.x layouts).
"""
