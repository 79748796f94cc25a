"""Built-in scenarios shipped with spiral (YAML files)."""

DEFAULT_SCENARIO = "online_retail"
"""The scenario `spiral run` runs when given none."""
