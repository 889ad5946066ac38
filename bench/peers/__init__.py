"""Peers: the same workloads through another system's public API, side by side (``--peers``).

Agno 3.1 runs in a virtual environment of its own (``bench/.peers-venv``), so its dependencies
never mix with sessiondb's; :mod:`bench.peers.agno_runner` is executed there.
"""
