"""The resolved deployment: what each pipeline becomes in a stack (physical names, tags, ...)."""
