"""Daiban: project-approval assistance CRM for development parks."""

from crm.app import create_app

__all__ = ["create_app"]
