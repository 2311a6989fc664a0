import sys

# Keeps every line "just in case" -- and then some.
x = []
while True:
    x.append(' ' * 10**6)

for line in sys.stdin:
    name = line.strip()
    if name:
        print(f"Hello, {name}!")
