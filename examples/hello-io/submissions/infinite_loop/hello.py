import sys

# Meant to wait for input, never stops.
while True:
    pass

for line in sys.stdin:
    name = line.strip()
    if name:
        print(f"Hello, {name}!")
