"""Paperwork drawn from facts infraleash has established (issue 12).

* :mod:`.module_facts` reads a Terraform module's interface (variables, outputs,
  providers, requirements, module calls, resources) from its ``.tf`` files;
* :mod:`.docs` renders it as terraform-docs' default markdown table;
* :mod:`.docs_file` injects that text between terraform-docs' markers and checks staleness;
* :mod:`.explain` explains a resource type, an attribute or a rule from the pinned
  provider schema, the stateful knowledge and the rules registry.

Nothing here calls a model; a surface that wants model prose passes it in.
"""
