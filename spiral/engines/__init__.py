"""The engines: customer rules, the SimPy, vectorised and analytic engines, their records."""
