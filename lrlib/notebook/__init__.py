"""What the notebooks use: plots, widgets, the digits training harness, and topic helpers."""
