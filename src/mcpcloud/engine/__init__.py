"""The call engine: every policy compiled once from the settings into one list, run once per call.

- `policy.Policy`: the one interface (admit / release / around);
- one module per policy: `authorize`, `argsize`, `ratelimit`, `concurrency` decide before the
  call runs; `timeout` and `cache` wrap it;
- `engine.Engine`: the compiled list, the principal source and the audit log; `decide` runs the
  admitting policies once, `run` the wrappers, `settle` writes the one audit record.

The HTTP front (`mcpcloud.front`, in front of the SDK), the MCP pipeline stage
(`mcpcloud.pipeline.engine_stage`, stdio and in-process) and the fast path all call the same
`Engine`; a call is decided exactly once, by whichever of them sees it first.
"""
