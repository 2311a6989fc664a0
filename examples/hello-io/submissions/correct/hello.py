"""Greet everyone named on standard input, one name per line."""
import sys

for line in sys.stdin:
    name = line.strip()
    if name:
        print(f"Hello, {name}!")
