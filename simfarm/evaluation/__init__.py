"""Evaluation of policies in simulation: the runner (Ray), report maths, comparisons."""
