"""Attachments: files on milestones, progress logs and (through the owner registry) other records."""
