"""`validate:` and the turns of `instructions:`: what one message asks and how its answer is checked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from turing_dagster.workflows.fields import check_regex, check_schema


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ValidateSpec(_Model):
    regex: str | None = None
    json_schema: dict[str, Any] | None = None

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    @field_validator("json_schema", mode="before")
    @classmethod
    def _schema_valid(cls, value: Any) -> Any:
        return check_schema(value)


def format_value(value: Any) -> Any:
    # Checked before the union so that a bad value gives one clear message instead of one per member.
    if value is None or value == "json":
        return value
    if isinstance(value, dict):
        return check_schema(value)
    raise ValueError(f"must be 'json' or a JSON schema (a mapping), got {value!r}")


class Turn(_Model):
    """One instruction of a multi-turn conversation: a user message, answered with the chat so far."""

    prompt: str = Field(min_length=1)
    format: Literal["json"] | dict[str, Any] | None = None
    checks: ValidateSpec | None = Field(None, alias="validate")

    @field_validator("format", mode="before")
    @classmethod
    def _format_wellformed(cls, value: Any) -> Any:
        return format_value(value)
