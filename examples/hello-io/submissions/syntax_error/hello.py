import sys

for line in sys.stdin
    name = line.strip()
    if name:
        print(f"Hello, {name}!")
