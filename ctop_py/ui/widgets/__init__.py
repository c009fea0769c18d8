"""Widgets of the ctop-py UI. None of them does I/O: data arrives as Snapshots."""
