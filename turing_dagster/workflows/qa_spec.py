"""`qa:` of a conversation: what the QA checks measure beyond `format` and `validate`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from turing_dagster.workflows.fields import parse_json_path


class QASpec(BaseModel):
    """`grounded`: a JSON path into the output whose items must occur in the posting's text;
    `facts`: numbers, money amounts, e-mail addresses and URLs in the output must occur in the posting;
    `allow`: items never counted as offending; `warn` / `error`: the share of offending items
    (of all items checked in the wave) above which the check warns or fails.
    """

    model_config = ConfigDict(extra="forbid")

    grounded: str | None = None
    facts: bool = False
    allow: list[str] = Field(default_factory=list)
    warn: float = Field(0.10, ge=0, le=1)
    error: float = Field(0.30, ge=0, le=1)

    @field_validator("grounded")
    @classmethod
    def _path_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_json_path(value)
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> QASpec:
        if self.error < self.warn:
            raise ValueError(f"error ({self.error}) must be >= warn ({self.warn})")
        return self
