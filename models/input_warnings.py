"""What a score says about the lead's own inputs: the warnings every scoring path gives.

The API puts them in a score's `warnings`, batch re-scoring in its
`warnings` column; both take the texts from here, so a lead scored either
way carries the same words.
"""

from __future__ import annotations

from collections.abc import Sequence


def missing_custom_fields(names: Sequence[str], model: str) -> str:
    """A lead lacks (absent or empty) custom fields that `model` ("name vN") reads."""
    if len(names) == 1:
        return (
            f"custom field {names[0]} is missing; {model} reads it, "
            "so the lead was scored as if it were unknown"
        )
    return (
        f"custom fields {', '.join(names)} are missing; {model} reads them, "
        "so the lead was scored as if they were unknown"
    )


def unseen_category(field: str, value: str) -> str:
    """A category value the model never saw in training."""
    return f"{field} '{value}' was not seen in training; the lead was scored as if it were missing"
