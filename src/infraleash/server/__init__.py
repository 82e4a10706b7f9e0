"""The approval server: a shared place where held commands wait for a named human.

See /work/prompts/server_contract.md for the module map.  Settings (``settings``), storage (``db``,
``models``, ``migrations``), who is calling (``auth``, ``tokens``), the rules (in ``api``, shared by the pages),
the hash-chained audit (``audit``), the JSON API (``api``), and the approvers' web pages (``pages``, templates
in ``templates/``; sessions and CSRF in ``web_session``, local passwords in ``passwords``, single sign-on in
``oidc``), all mounted by ``app.create_app``.
"""
