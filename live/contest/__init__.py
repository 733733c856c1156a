"""The contest before the finale: organisations, eligibility, routing, nominations, jury.

The rules here are pure functions over the shipped domain facts (`live/data/*.csv`, from
KS's 2022 call and the municipality register), unit-tested in `tests/test_contest_*.py`.
"""
