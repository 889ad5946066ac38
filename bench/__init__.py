"""The sessiondb benchmark suite: ``python -m bench --help``.

Every workload is measured for sessiondb and for an in-run baseline (the raw driver doing the
equivalent SQL on the same tables, or a bare ASGI endpoint serving the same bytes), and
reported as a ratio, so that a noisy shared machine still gives comparable numbers. See
``docs/benchmarks.md`` for the workloads, the commands and the latest results.

Modules that the Agno peer runner imports (``data``, ``stats``, ``clone``, ``report_model``)
use only the standard library and the database drivers, never :mod:`sessiondb`, because that
runner lives in a virtual environment of its own.
"""
