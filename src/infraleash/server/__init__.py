"""The approval server: a shared place where held commands wait for a named human.

See /work/prompts/server_contract.md for the module map.  Settings (``settings``), storage (``db``,
``models``, ``migrations``), who is calling (``auth``, ``tokens``), the rules (``requests_service``),
the hash-chained audit (``audit``), and the JSON API (``api``) mounted by ``app.create_app``.
"""
