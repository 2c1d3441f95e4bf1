"""The ``auth`` settings group: bearer tokens, each with a name and permissions.

Tokens are hashed as soon as they are read: a plaintext ``token`` becomes ``sha256:<hex>``
during validation, so the settings the broker keeps (and could log) never hold a secret.
Operators may write the digest themselves (``token: sha256:<hex>``) to keep plaintext out
of their configuration too. Tokens come from ``auth.tokens`` and from ``auth.tokens_file``,
a YAML or JSON file (a mounted Kubernetes Secret), read once at start.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pubsubgo.core.access import DIGEST_PREFIX, Action, Permission, Principal, token_digest

#: A plaintext token shorter than this is refused: tokens are never typed by people, so
#: there is no reason for one to be short enough to guess.
MIN_TOKEN_LENGTH = 16
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PermissionSettings(_Strict):
    """``action`` on the topics and subscriptions whose names match ``pattern`` (a glob)."""

    action: Action
    pattern: str = Field(min_length=1, max_length=256)


class TokenSettings(_Strict):
    """One bearer token. ``token`` is plaintext or ``sha256:<hex>``; either way it is kept
    as the digest."""

    name: str = Field(min_length=1, max_length=128)
    token: str
    permissions: list[PermissionSettings] = Field(default_factory=list)

    @field_validator("token")
    @classmethod
    def _hash(cls, value: str) -> str:
        if value.startswith(DIGEST_PREFIX):
            digest = value.lower()
            if not _DIGEST.fullmatch(digest):
                raise ValueError("a hashed token is 'sha256:' followed by 64 hex digits")
            return digest
        if len(value) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a token has at least {MIN_TOKEN_LENGTH} characters")
        return token_digest(value)

    def principal(self) -> Principal:
        """Who this token identifies, with what it may do."""
        granted = tuple(Permission(p.action, p.pattern) for p in self.permissions)
        return Principal(self.name, granted)


class AuthSettings(_Strict):
    """Bearer-token authentication (DESIGN §7); off by default."""

    enabled: bool = False
    tokens: list[TokenSettings] = Field(default_factory=list)
    #: A YAML or JSON file of tokens (a list, or a mapping with a ``tokens`` list), read at
    #: start when auth is enabled: the production overlay mounts it from a Secret.
    tokens_file: Path | None = None
    _from_file: list[TokenSettings] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _load(self) -> AuthSettings:
        if not self.enabled:
            return self  # the file may not even be mounted while auth is off
        if self.tokens_file is not None:
            try:
                self._from_file = read_tokens_file(self.tokens_file)
            except ValueError as error:
                raise _invalid("tokens_file", str(error)) from None
        every = self.every_token
        if not every:
            raise _invalid("tokens", "auth is enabled but no token is configured")
        if problem := _duplicates(every):
            raise _invalid("tokens", problem)
        return self

    @property
    def every_token(self) -> list[TokenSettings]:
        """The tokens of ``tokens`` and of ``tokens_file``."""
        return [*self.tokens, *self._from_file]


def read_tokens_file(path: Path) -> list[TokenSettings]:
    """The tokens in ``path``, validated like ``auth.tokens``.

    Raises:
        ValueError: the file cannot be read or parsed, or a token in it is invalid; the
            message is one line naming the file.
    """
    try:
        loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise ValueError(f"{path}: {reason}") from None
    if isinstance(loaded, dict) and set(loaded) == {"tokens"}:
        loaded = loaded["tokens"]
    if not isinstance(loaded, list):
        raise ValueError(f"{path}: expected a list of tokens")
    tokens = []
    for index, entry in enumerate(loaded):
        try:
            tokens.append(TokenSettings.model_validate(entry))
        except ValidationError as error:
            # Never the input: it may be a plaintext token.
            problem = error.errors(include_input=False, include_url=False)[0]
            where = "".join(f".{part}" for part in problem["loc"])
            raise ValueError(f"{path}: tokens[{index}]{where}: {problem['msg']}") from None
    return tokens


def _duplicates(tokens: list[TokenSettings]) -> str | None:
    """What is wrong when two tokens share a name (rate limits and logs go by name) or a
    secret (the broker could not tell them apart)."""
    names = [name for name, n in Counter(t.name for t in tokens).items() if n > 1]
    if names:
        return f"token names must be unique: {', '.join(sorted(names))}"
    digests = Counter(t.token for t in tokens)
    shared = sorted(t.name for t in tokens if digests[t.token] > 1)
    if shared:
        return f"tokens {', '.join(shared)} are the same token"
    return None


def _invalid(field: str, message: str) -> ValidationError:
    """A validation error located at ``auth.<field>``, so that the one-line config error
    names that key (a model validator's own errors would only name ``auth``)."""
    detail = InitErrorDetails(
        type=PydanticCustomError("value_error", "{reason}", {"reason": message}),
        loc=(field,),
        input=None,
    )
    return ValidationError.from_exception_data("AuthSettings", [detail])
