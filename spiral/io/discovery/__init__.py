"""Discovering a scenario from an event log: durations, arrivals, case ends, routing."""
