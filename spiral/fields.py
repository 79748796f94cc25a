"""Field types shared by the scenario models: probabilities, rates, routing, the base model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from spiral.units import parse_rate


def _probability(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a probability in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"expected a probability in [0, 1], got {value!r}")
    return float(value)


Probability = Annotated[
    float,
    BeforeValidator(_probability),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}),
]
"""A number in [0, 1]."""

Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    WithJsonSchema(
        {"type": "string", "description": "A rate with a unit, e.g. '120 per day', '5 per h'."}
    ),
]
"""Events per unit time in the file, per minute in Python."""


def _routing(value: object) -> object:
    """Read a bare node name as 'go there with probability 1'."""
    if isinstance(value, str):
        return {value: 1.0}
    return value


Routing = Annotated[
    dict[str, Probability],
    BeforeValidator(_routing),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "A node name (probability 1)."},
                {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                    "description": "Node name -> probability; the probabilities sum to 1.",
                },
            ]
        }
    ),
]
"""Where a customer goes next: node name -> probability (a bare name means 1)."""


class Model(BaseModel):
    """Base of every scenario model: frozen, unknown fields refused."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )
