"""The auditors' Dash dashboard: pages, and the plain modules their callbacks call."""
