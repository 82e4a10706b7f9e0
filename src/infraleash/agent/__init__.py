"""The agent runtime: model adapters, the loop over guarded tools, plans with checkpoints, incident mode.

    models/             the Model protocol and its adapters (OpenAI-compatible, Anthropic, scripted)
    messages.py         provider-neutral messages, tool calls, usage
    loop.py             the ReAct loop: limits, observe, pause/resume, typed outcomes (exceptions.py)
    guarded.py          the guarded toolset: every call passes the gate (decide, audit, run/hold/refuse)
    tools.py            built-in tools (workspace files, terraform, kubectl reads, check, review, logs, schema)
    planner.py          step plans and validation checkpoints
    incident.py         incident mode (sev1/sev2: read and draft only)
    runtime.py          assembling a run from a policy, a workspace and a model
    run_store.py        the trajectory, saved after every step
    passthrough_context.py  the context-manager seam and its pass-through implementation
"""
