"""Paperwork drawn from facts infraleash has established (issue 12).

* :mod:`.module_facts` reads a Terraform module's interface (variables, outputs,
  providers, requirements, module calls, resources) from its ``.tf`` files;
* :mod:`.docs` renders it as terraform-docs' default markdown table;
* :mod:`.docs_file` injects that text between terraform-docs' markers and checks staleness;
* :mod:`.explain` explains a resource type, an attribute or a rule from the pinned
  provider schema, the stateful knowledge and the rules registry;
* :mod:`.factcheck` keeps a model's sentence only when every entity it names is in the facts;
* :mod:`.pr_description` turns a review (verdict, plan summary, findings) into a PR description;
* :mod:`.incident_report` drafts an RCA and a scrubbed customer update from a log analysis;
* :mod:`.runbook` proposes a unified diff that adds an incident's lessons to a markdown runbook.

Nothing here calls a model or imports the agent; a surface that wants model prose passes a
:class:`.factcheck.ProseWriter` (one method) in.
"""
