"""Controlled documents (SOPs) that people sign as read and understood."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field

from app.models.base import SQLModel


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    title: str = Field(max_length=200)
    revision: str = Field(max_length=20)
    body: str = Field(sa_column=Column(Text, nullable=False))
