"""Staff writes (flush, never commit):

- ``staffing``: who serves a project: the assignment rule applied to a park's roster,
  manual assignment and reassignment, helper agents;
- ``roster``: staff records, the parks they serve, leave and deactivation, and handing over
  the projects of someone who leaves.

Refusals raise DomainError (a message per form field) before anything changes.  People who
start or stop serving a project are announced with ``signals.assignments_changed``.
"""
