"""The cockpit's screens, one per module."""
