"""A model reference as the live config names it: ``provider:model``.

Only the syntax is checked here (the ground floor knows no providers); whether this
install can run it is ``agents.runtime.models.validate_model_string``.
"""

from __future__ import annotations

import re

from agents.core.errors import UnknownModelError

__all__ = ["parse_model_string"]

_PROVIDER = re.compile(r"[a-z][a-z0-9_]*")


def parse_model_string(model: str) -> tuple[str, str]:
    """Split `provider:model` into its halves, checking only the syntax.

    The provider is lower-cased with `-` read as `_` (LangChain's spelling); the model
    name is kept as is and may itself contain `:` (`ollama:llama3:8b`).

    Raises:
        UnknownModelError: not of the form `provider:model`.
    """
    if not isinstance(model, str) or ":" not in model:
        raise UnknownModelError(str(model), "expected 'provider:model', e.g. 'offline:echo-1'")
    provider, name = model.split(":", maxsplit=1)
    provider = provider.lower().replace("-", "_")
    if not _PROVIDER.fullmatch(provider):
        raise UnknownModelError(model, "the provider must be a name like 'openai'")
    if not name or name != name.strip() or not name.isprintable():
        raise UnknownModelError(model, "the model name must be non-empty, printable, unpadded")
    return provider, name
