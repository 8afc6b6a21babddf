"""The kernel: what every place a program runs shares, written once.

- `protocol`: the frame table (kinds, fields, directions), the error kinds, the codec, `Send`/`HostChannel`;
- `link`: numbered, acknowledged records under the frames, and the link state both ends keep;
- `program`: top-level `await`/`return`, parsing and compiling with the agent's own line numbers;
- `report`: `ErrorInfo`, `error_info` (only the agent's frames) and `to_plain` (plain results);
- `names`: `ProgramNames`, the one place that decides the names a program sees;
- `stubs`, `schema`, `errors`: the tool namespaces, their argument checks, the exceptions a call raises.

The in-process sandbox imports it as `engine.kernel`; a worker process or an E2B sandbox gets the
same files shipped as source (`engine.executors.bundle`). It imports only the standard library and
msgpack, and nothing else of `engine` (a test checks both).
"""
