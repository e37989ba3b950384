"""Bounds on a YAML document, checked before anything builds it.

PyYAML's composer and constructor recurse once per nesting level, and aliases
let a few hundred bytes stand for billions of nodes ("billion laughs"). Both
hang or crash a process that reads an untrusted file, and web3's import of
py_ecc raises the recursion limit far enough that deep nesting overflows the C
stack instead of raising ``RecursionError``. :func:`check_yaml_limits` walks
PyYAML's event stream (a loop with an explicit stack, no recursion) and counts
what the document would expand to, so a hostile file is refused in linear time.
"""

from __future__ import annotations

import yaml

__all__ = ["MAX_YAML_DEPTH", "MAX_YAML_NODES", "YamlLimitError", "check_yaml_limits"]

MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and sequences a document may have."""

MAX_YAML_NODES = 100_000
"""Most nodes a document may expand to, counting every alias as a copy of its anchor."""


class YamlLimitError(ValueError):
    """The document is nested too deeply or expands to too many nodes."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line
        """1-based line where the limit was crossed."""


def check_yaml_limits(
    text: str, *, max_depth: int = MAX_YAML_DEPTH, max_nodes: int = MAX_YAML_NODES
) -> None:
    """Refuse a document that nests deeper than ``max_depth`` or expands to more than
    ``max_nodes`` nodes.

    Raises:
        YamlLimitError: a limit was crossed (the line says where).
        yaml.YAMLError: the text is not YAML (the caller's usual parse error).
    """
    # One counter per open collection: how many nodes it expands to so far.
    open_sizes: list[int] = []
    open_anchors: list[str | None] = []
    anchored: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_sizes) >= max_depth:
                raise YamlLimitError(f"nested deeper than {max_depth} levels", line)
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size = open_sizes.pop()
            anchor = open_anchors.pop()
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            # an unknown anchor is the composer's error to report, with its own message
            size, anchor = anchored.get(str(event.anchor), 1), None
        else:
            continue  # stream and document boundaries
        if anchor is not None:
            anchored[anchor] = size
        if open_sizes:
            open_sizes[-1] += size
        else:
            total += size
        if total + sum(open_sizes) > max_nodes:
            raise YamlLimitError(f"expands to more than {max_nodes:,} nodes (aliases)", line)
