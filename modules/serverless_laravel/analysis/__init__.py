"""Analysis layer: models computed from props and synthesized stacks (connection budget, ...)."""
