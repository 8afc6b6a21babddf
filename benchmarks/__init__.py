"""The benchmark harness: engine measured side by side against what a user would pick instead.

Run it with `./dev bench` (or `python -m benchmarks`; `--quick` for a few-second smoke run). It
writes `benchmarks/results/latest.md` and `latest.json`; `docs/benchmarks.md` explains the figures.

Sections (one module each): `bench_overhead` (a tool call vs raw and vs mcp-use's code mode, empty
executions, a pure-Python workload vs CPython and smolagents), `bench_runtime` (concurrent tool
calls, stopping at a timeout, throughput, memory per code session), `bench_catalog` (stubs and
search at 100 to 10,000 tools; search quality on labelled queries), `bench_remote` (bridge overhead
per executor, when present), `bench_tokens` with `tasks` (token economics on real servers) and
`live_agent` (the same tasks with a real model, when an API key is set). `core` holds the
interleaved timing and the result shapes; `envs` the virtualenvs of the alternatives.
"""
