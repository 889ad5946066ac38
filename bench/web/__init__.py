"""HTTP benchmarking: the server processes and the load generator (each run as ``python -m``)."""
