"""Assembles one environment's stack from its validated settings (`stack.build.build`)."""
