"""Day-2 operation commands that read the stack's settings (capacity planning)."""
