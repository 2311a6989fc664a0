"""Greets everyone, but forgets to strip spaces and skip blank lines."""
import sys

for line in sys.stdin:
    print(f"Hello, {line.rstrip()}!")
