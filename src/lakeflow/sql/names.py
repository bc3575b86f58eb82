"""SQL identifiers: the one place names are quoted before they reach SQL text."""


def quoted(*parts: str) -> str:
    """`a`.`b`.`c`: each part a quoted SQL identifier, a backtick inside doubled. Names are
    validated to letters, digits and underscores where they enter; quoting keeps reserved words
    working, and the doubling keeps a name that slipped past validation one identifier."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)
