"""The GitHub toolsets, each enabled by name in `[pack.github] toolsets`."""
