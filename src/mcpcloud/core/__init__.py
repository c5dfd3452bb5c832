"""The shared vocabulary: who calls (principal), what is called (call), how it ended (outcomes),
what exists (registry). Every layer imports these; they import nothing of mcpcloud's, which is
what keeps the package free of import cycles (see the import-linter contracts in pyproject.toml).
"""
