"""JSON schema of one exported call, built from the field table (``fields.py``)."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from tap_voicegain.records.fields import (
    CALL_FIELDS,
    EXTRA_FIELD,
    PROJECT_FIELD,
    SEGMENT_FIELDS,
    Field,
)

if t.TYPE_CHECKING:
    from tap_voicegain.records.fields import Kind

# An open object is declared without "properties": with an empty "properties"
# the SDK's flattening drops the column from the schema but still spreads its
# keys over the record ("No schema for record field" in the target). Without
# it, flattening keeps the column whole, as JSON text.
OPEN_OBJECT = th.CustomType({"type": ["object", "null"], "additionalProperties": True})


def _items(*props: tuple[str, th.JSONTypeHelper[t.Any]]) -> th.ArrayType[t.Any]:
    return th.ArrayType(th.ObjectType(*(th.Property(n, k) for n, k in props)))


KIND_TYPES: dict[Kind, th.JSONTypeHelper[t.Any]] = {
    "string": th.StringType(),
    "integer": th.IntegerType(),
    "number": th.NumberType(),
    "boolean": th.BooleanType(),
    "datetime": th.DateTimeType(),
    "strings": th.ArrayType(th.StringType),
    "markers": _items(
        ("time", th.IntegerType()), ("type", th.StringType()), ("note", th.StringType())
    ),
    "words": _items(("phrase", th.StringType()), ("freq", th.IntegerType())),
    "dtmf": _items(
        ("dtmf", th.StringType()),
        ("timestamp", th.IntegerType()),
        ("channel", th.StringType()),
    ),
    "sentiments": _items(
        ("speaker", th.StringType()),
        ("average", th.NumberType()),
        ("final", th.NumberType()),
        ("trend", th.NumberType()),
    ),
    "object": OPEN_OBJECT,
}


def _property(field: Field, required: frozenset[str]) -> th.Property[t.Any]:
    if field.kind == "rows":
        kind: th.JSONTypeHelper[t.Any] = th.ArrayType(
            th.ObjectType(
                *(_property(sub, frozenset()) for sub in field.sub),
                th.Property("_extra", OPEN_OBJECT),
            )
        )
    elif field.kind == "nested":
        kind = th.ObjectType(
            *(
                th.Property(sub.name, th.StringType, description=sub.description)
                for sub in field.sub
            )
        )
    else:
        kind = KIND_TYPES[field.kind]
    return th.Property(
        field.name,
        kind,
        required=field.name in required,
        description=field.description,
    )


def schema_of(
    fields: tuple[Field, ...], required: tuple[str, ...] = ("callId",)
) -> dict[str, t.Any]:
    """The JSON schema of records of ``fields``; ``required``: never null."""
    needed = frozenset(required)
    return th.PropertiesList(*(_property(f, needed) for f in fields)).to_dict()


def calls_schema() -> dict[str, t.Any]:
    """Return the JSON schema of the ``calls`` stream."""
    return schema_of(CALL_FIELDS)


# A segment record: the call's key, the segment, what did not fit, the project.
SEGMENT_RECORD = (
    Field("contextId", "string", description="Voicegain project (context) id."),
    Field("callId", "integer", description="The call of the segment."),
    *SEGMENT_FIELDS,
    *(field for field in CALL_FIELDS if field.name in {EXTRA_FIELD, PROJECT_FIELD}),
)


def segments_schema() -> dict[str, t.Any]:
    """Return the JSON schema of the ``call_segments`` stream."""
    return schema_of(SEGMENT_RECORD, required=("callId", "segmentSeq"))
