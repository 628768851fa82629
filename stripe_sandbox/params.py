"""Decode Stripe's bracketed form encoding (`metadata[k]=v`, `created[gte]=1`, `a[0]=x`,
and `a[]=x&a[]=y`, which curl users send for arrays)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PART = re.compile(r"\[([^\]]*)\]")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn flat form pairs into nested dicts; numeric-only dicts become lists."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        path = [head, *_PART.findall("[" + rest)] if rest else [head]
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            if path[-1] == "" and len(path) > 1:  # `types[]=a&types[]=b`: append
                node[str(len(node))] = value
            else:
                node[path[-1]] = value
    return {k: _listify(v) for k, v in out.items()}


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    value = {k: _listify(v) for k, v in value.items()}
    if value and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return value
