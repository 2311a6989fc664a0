"""Uses integer division, so 5 // 3 prints 1 instead of 1.666..."""
import sys

numbers = [int(line) for line in sys.stdin if line.strip()]
print(sum(numbers) // len(numbers))
