"""The web layer (`gradient_flow_lab.app`): validate with pydantic, call the core, serialise."""
