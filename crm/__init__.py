"""Daiban: project-approval assistance CRM for development parks.

``create_app`` is imported on first use, so importing a pure rule module
(``crm.milestones.calendar``, ``crm.milestones.sla``, ...) does not load Flask.
"""


def create_app(test_config: dict | None = None):
    from crm.app import create_app as factory

    return factory(test_config)


__all__ = ["create_app"]
