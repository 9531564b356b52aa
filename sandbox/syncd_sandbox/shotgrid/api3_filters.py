"""api3 filters onto the emulator's filter engine (`filters.FilterCompiler`).

The client (`_translate_filters`) sends `{"logical_operator": "and"|"or", "conditions": [...]}`
where a condition is `{"path", "relation", "values": [...]}` and a nested group has the same
shape as the top. `values` is always a list: one item for `is`, the items for `in`, the pair for
`between` or `in_last`. Translated here to the REST `api3_hash` form the engine already
compiles, so both protocols filter with one set of semantics.

`find` passes a filter *hash* through untranslated, so the older documented form
`{"filter_operator": "all"|"any", "filters": [[path, relation, value...], {...}]}` also reaches
the server and is accepted here the way the client would have translated it.
"""

from __future__ import annotations

from typing import Any

from .api3_protocol import Api3Fault

# Relations whose value is the whole `values` list rather than its single item.
_LIST_VALUED = frozenset(
    {"in", "not_in", "between", "not_between", "in_last", "not_in_last", "in_next", "not_in_next"}
)


def to_hash_filters(filters: Any) -> dict[str, Any]:
    """An api3 filter hash in the engine's `{"logical_operator", "conditions"}` form."""
    if filters is None:
        return {"logical_operator": "and", "conditions": []}
    if not isinstance(filters, dict):
        raise Api3Fault(f"filters must be a hash with logical_operator and conditions: {filters!r}")
    return _group(filters, "filters")


_OPERATORS = {"all": "and", "and": "and", "any": "or", "or": "or"}


def _group(group: dict[str, Any], where: str) -> dict[str, Any]:
    if "filter_operator" in group and "logical_operator" not in group:
        return _legacy_group(group, where)
    operator = group.get("logical_operator")
    if operator not in ("and", "or"):
        raise Api3Fault(f"Invalid logical_operator {operator!r} at {where}.")
    conditions = group.get("conditions")
    if not isinstance(conditions, list):
        raise Api3Fault(f"Missing conditions list at {where}.")
    return {
        "logical_operator": operator,
        "conditions": [_node(c, f"{where}.conditions[{i}]") for i, c in enumerate(conditions)],
    }


def _legacy_group(group: dict[str, Any], where: str) -> dict[str, Any]:
    operator = _OPERATORS.get(group["filter_operator"])
    if operator is None:
        raise Api3Fault(f"Invalid filter_operator {group['filter_operator']!r} at {where}.")
    filters = group.get("filters")
    if not isinstance(filters, list):
        raise Api3Fault(f"Missing filters list at {where}.")
    conditions = []
    for i, item in enumerate(filters):
        at = f"{where}.filters[{i}]"
        if isinstance(item, dict):
            conditions.append(_group(item, at))
        elif isinstance(item, list) and len(item) >= 2:
            values = item[2:]
            if len(values) == 1 and isinstance(values[0], list):
                values = values[0]
            conditions.append(_node({"path": item[0], "relation": item[1], "values": values}, at))
        else:
            raise Api3Fault(f"Invalid condition at {at}: {item!r}")
    return {"logical_operator": operator, "conditions": conditions}


def _node(node: Any, where: str) -> Any:
    if isinstance(node, dict) and ("logical_operator" in node or "filter_operator" in node):
        return _group(node, where)
    if not isinstance(node, dict) or "path" not in node or "relation" not in node:
        raise Api3Fault(f"Invalid condition at {where}: {node!r}")
    values = node.get("values", [])
    if not isinstance(values, list):
        values = [values]
    relation = node["relation"]
    value = values if relation in _LIST_VALUED else (values[0] if values else None)
    return [node["path"], relation, value]
