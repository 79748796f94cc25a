"""Built-in scenarios shipped with spiral (YAML files)."""
