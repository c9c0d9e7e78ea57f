"""Milestone writes (flush, never commit), one module per concern:

- ``lifecycle``: start, pause, resume, complete, waive, reopen; custom milestones; the
  project's stage advancing when a stage's required milestones are finished;
- ``plans``: a project's approval plan drawn from the catalogue, and the catalogue's seed;
- ``schedules``: a year's official holiday schedule loaded, open deadlines recomputed;
- ``sweep``: running milestones that became due soon or overdue, announced once per state.
"""
