"""`make reliability`: operator scenarios against real processes (see suite.py)."""
