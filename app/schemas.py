"""Pydantic models: views of the Met collection API's JSON and the service's own answers.

The upstream views read the API's own field names through aliases and ignore fields they do
not know, because the API adds and drops fields freely.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class UpstreamModel(BaseModel):
    """Base for views of upstream JSON: tolerant of extra fields, populated by alias."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ObjectIdList(UpstreamModel):
    """Answer of ``/search`` and ``/objects``: a count and the matching object ids."""

    total: int = Field(ge=0)
    object_ids: list[int] = Field(default_factory=list, alias="objectIDs")

    @field_validator("object_ids", mode="before")
    @classmethod
    def _null_means_none(cls, value: object) -> object:
        """The API answers a search without hits as ``{"total": 0, "objectIDs": null}``."""
        return [] if value is None else value


class MetObject(UpstreamModel):
    """Answer of ``/objects/{id}``: the fields this service reads of one work."""

    object_id: int = Field(alias="objectID")
    title: str = ""
    primary_image: str = Field(default="", alias="primaryImage")
    additional_images: list[str] = Field(default_factory=list, alias="additionalImages")

    @field_validator("title", "primary_image", mode="before")
    @classmethod
    def _null_means_empty(cls, value: object) -> object:
        """Some records carry ``null`` where a string is expected."""
        return "" if value is None else value

    @field_validator("additional_images", mode="before")
    @classmethod
    def _null_means_no_images(cls, value: object) -> object:
        """Some records carry ``null`` where a list is expected."""
        return [] if value is None else value


class ErrorResponse(BaseModel):
    """Body of every error this service answers with, except 422."""

    detail: str = Field(examples=["No results found."])


class HealthResponse(BaseModel):
    """Body of ``/health``."""

    status: str = Field(examples=["ok"])
