"""Envoy's admin JSON (proto field names, snake_case) in istioctl's spelling (protobuf JSON names, lowerCamel).

istioctl decodes the dump into Go protos and prints them again with jsonpb, so
`-o json` shows `connectTimeout`, `edsClusterConfig`, ... while the dump says
`connect_timeout`.  Only proto field names change: map keys (`filter_metadata`
namespaces, matcher maps, `typed_per_filter_config` filter names) and the keys
inside `google.protobuf.Struct` values (node metadata, access-log JSON formats,
TypedStruct values) stay as they are.  Proto field names are lowercase
snake_case, so only keys of that form are converted; the Struct-valued fields
whose own keys may also look like that are copied untouched.
"""

from __future__ import annotations

from typing import Any

from ambientctl.lazyre import LazyPattern

_SNAKE = LazyPattern(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
# Fields whose value is a google.protobuf.Struct (or a map of them): copied as they are.
_STRUCT_FIELDS = frozenset({"json_format", "static_layer", "filter_metadata", "struct_value"})
_STRUCT_ANY_TYPES = ("type.googleapis.com/google.protobuf.Struct",)
_TYPED_STRUCTS = ("type.googleapis.com/udpa.type.v1.TypedStruct", "type.googleapis.com/xds.type.v3.TypedStruct")
_METADATA_MESSAGE_KEYS = frozenset({"filter_metadata", "typed_filter_metadata", "filterMetadata",
                                    "typedFilterMetadata"})


def camel(name: str) -> str:
    """protoc's JSON name of a field: `http2_protocol_options` -> `http2ProtocolOptions`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_proto_json(node: Any) -> Any:
    """A converted copy of `node` (the input is left as it is)."""
    if isinstance(node, dict):
        return _message(node)
    if isinstance(node, list):
        return [to_proto_json(item) for item in node]
    return node


def _message(node: dict[str, Any]) -> dict[str, Any]:
    type_url = node.get("@type")
    if type_url in _STRUCT_ANY_TYPES:
        return dict(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _STRUCT_FIELDS or (key == "value" and type_url in _TYPED_STRUCTS) or \
                (key == "metadata" and _is_struct(value)):
            out[camel(key)] = value
        elif isinstance(key, str) and _SNAKE.match(key):
            out[camel(key)] = to_proto_json(value)
        else:
            out[key] = to_proto_json(value)
    return out


def _is_struct(value: Any) -> bool:
    """`metadata` is a core.Metadata message on clusters/routes/endpoints but a Struct on the node."""
    return isinstance(value, dict) and not set(value) <= _METADATA_MESSAGE_KEYS


def resource_json(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource printed as istioctl prints it: the message itself (the dump's Any `@type` dropped)."""
    converted = _message(resource)
    converted.pop("@type", None)
    return converted
