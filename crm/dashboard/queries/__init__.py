"""Dashboard reads, one module per concern:

- ``figures``: the key figures per park as SQL aggregates (live for a park, stored as rollups
  for the city);
- ``lists``: the lists on the dashboards and the drill-down lists behind every figure;
- ``boards``: what each dashboard page shows (filters, figures and lists put together), the
  city's figures read from the rollups, and the home pages' overview.
"""
