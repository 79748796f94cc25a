"""The model: units, distributions, scenarios and what-ifs, loading, the journey graph, guards."""
