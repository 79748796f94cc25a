"""Field types shared by the scenario models: probabilities, rates, routing, the base model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from spiral.model.units import parse_rate

NAME_LENGTH = 100
"""The longest name a user may give a silo, node, what-if, scenario or currency."""

MAX_AMOUNT = 1e9
"""The largest money amount a scenario may hold."""


def _yaml_hint(value: object, expected: str) -> str | None:
    """Say how YAML read an unquoted value that should have been text, if it did."""
    if isinstance(value, bool):
        text = str(value).lower()
        return f"YAML read {text} as a boolean; expected {expected}: quote it ('{text}')"
    if isinstance(value, int | float):
        return f"YAML read {value!r} as a number; expected {expected}: quote it ('{value!r}')"
    return None


def check_name(value: object) -> str:
    """Return a name a user gave if it is 1 to 100 printable characters (ValueError if not)."""
    hint = _yaml_hint(value, "a name")
    if hint:
        raise ValueError(hint)
    if not isinstance(value, str):
        raise ValueError(f"expected a name, got {type(value).__name__}")
    if len(value) > NAME_LENGTH:
        raise ValueError(
            f"expected a name of at most {NAME_LENGTH} characters, got {len(value)} "
            f"characters ({value[:20]!r}...)"
        )
    if not value or not value.isprintable():
        raise ValueError(
            f"expected a name of 1 to {NAME_LENGTH} printable characters, got {value!r}"
        )
    return value


Name = Annotated[
    str,
    BeforeValidator(check_name),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_LENGTH,
            "description": f"A name: 1 to {NAME_LENGTH} printable characters.",
        }
    ),
]
"""A name a user gives (silo, node, what-if, scenario, currency): short and printable."""


def _whole(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"YAML read {str(value).lower()} as a boolean; expected a whole number")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
"""A whole number (bounds set per field); a YAML boolean is refused, not read as 0 or 1."""

Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]
"""A money amount: 0 to 1e9."""


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
    hint = _yaml_hint(value, "a node name")
    if hint:
        raise ValueError(hint)
    if isinstance(value, str):
        return {value: 1.0}
    return value


Routing = Annotated[
    dict[Name, Probability],
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
