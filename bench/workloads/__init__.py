"""The SQL workloads, one module per family; each exposes ``run(env, sizes) -> list[Result]``."""
