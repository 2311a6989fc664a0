"""Print the mean of the numbers on standard input, one number per line."""
import sys

numbers = [float(line) for line in sys.stdin if line.strip()]
print(sum(numbers) / len(numbers))
