"""Writes of supervision: rounds and their reports (rounds.py), problems and meetings
(problems.py), investment plans (investment.py)."""
