"""Inputs of the "mode" test: non-empty lists of small integers, so that ties happen."""
from hypothesis import strategies as st

arguments = [st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=12)]
