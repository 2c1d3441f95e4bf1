"""Reading wire bytes into schema types and writing them back, with our own error wording.

Every edge decodes through :func:`decode` (JSON bodies and frames) or :func:`convert`
(query strings, already-parsed values), so that bad input is refused the same way
everywhere: an :class:`InvalidRequest` (or :class:`InvalidJson`) naming the field, with a
message worded here. msgspec's own messages are read for what they mean, never passed on,
so a new msgspec wording changes no answer a client sees except to the generic one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import msgspec

from pubsubgo.core.errors import InvalidArgument

T = TypeVar("T")


class JsonInteger(int):
    """An integer as JSON Schema has it: ``2`` or ``2.0``, never ``"2"``, ``2.5`` or ``true``.

    msgspec's ``int`` refuses ``2.0``, which the OpenAPI document (and so every client
    generated from it, and the fuzz tests) counts as an integer; fields of this type take
    it. Subclasses set the bounds, which the refusal and the JSON Schema state.
    """

    minimum: ClassVar[int] = -(2**53 - 1)
    maximum: ClassVar[int] = 2**53 - 1

    @classmethod
    def read(cls, value: object) -> JsonInteger:
        """``value`` (as JSON decoding gave it) as this type.

        Raises:
            RuleBroken: not an integer, or out of the bounds.
        """
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int:
            raise RuleBroken("", "must be an integer")
        if not cls.minimum <= value <= cls.maximum:
            raise RuleBroken("", f"must be {cls.minimum}..{cls.maximum}")
        return cls(value)

    @classmethod
    def default(cls, value: int) -> Any:
        """A struct field's default of ``value`` (made per instance: msgspec writes a plain
        default into the JSON Schema, which it cannot do with an int subclass)."""
        return msgspec.field(default_factory=lambda: cls(value))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The type's JSON Schema."""
        return {"type": "integer", "minimum": cls.minimum, "maximum": cls.maximum}


#: A decimal integer in a query string.
_QUERY_INTEGER = re.compile(r"-?[0-9]{1,20}")


def _from_json(type_: type, value: Any) -> Any:
    if issubclass(type_, JsonInteger):
        return type_.read(value)
    raise NotImplementedError(type_)


def _from_text(type_: type, value: Any) -> Any:
    if issubclass(type_, JsonInteger) and type(value) is str and _QUERY_INTEGER.fullmatch(value):
        return type_.read(int(value))
    return _from_json(type_, value)


def _to_json(value: Any) -> Any:
    if isinstance(value, int):  # a JsonInteger that reached a response
        return int(value)
    raise NotImplementedError(type(value))


def schema_hook(type_: type) -> dict[str, Any]:
    """The JSON Schema of the wire's own types (for ``msgspec.json.schema_components``)."""
    if issubclass(type_, JsonInteger):
        return type_.json_schema()
    raise NotImplementedError(type_)


_encoder = msgspec.json.Encoder(enc_hook=_to_json)
#: One decoder per type: building one costs more than decoding a small body.
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


class RuleBroken(ValueError):
    """Raised by a schema's own rule (in ``__post_init__``): which field, and what is wrong
    with it, worded as the rest of this module words problems."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidJson(InvalidArgument):
    """Raised when a body or frame is not JSON at all."""

    code = "invalid_json"

    def __init__(self) -> None:
        super().__init__("the body is not valid JSON (RFC 8259, UTF-8)")


class InvalidRequest(InvalidArgument):
    """Raised when JSON is well formed but does not fit the schema: ``field`` says where."""

    code = "invalid_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'body'}: {problem}", field=field)
        self.problem = problem

    def details(self) -> dict[str, object]:
        return {"field": self.field, "errors": [{"field": self.field, "message": self.problem}]}


def encode(value: object) -> bytes:
    """``value`` (a schema Struct, or plain data) as JSON bytes."""
    return _encoder.encode(value)


def decode(raw: bytes | str, type_: type[T]) -> T:
    """``raw`` as ``type_``.

    Raises:
        InvalidJson: ``raw`` is not JSON.
        InvalidRequest: it does not fit ``type_``.
    """
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_, dec_hook=_from_json)
    try:
        decoded: T = decoder.decode(raw)
    except msgspec.ValidationError as error:
        raise invalid_request(error, type_) from None
    except msgspec.DecodeError:
        raise InvalidJson() from None
    return decoded


def convert(value: object, type_: type[T], *, from_strings: bool = False) -> T:
    """``value`` (parsed JSON, or a query string's ``str`` values when ``from_strings``)
    as ``type_``.

    Raises:
        InvalidRequest: it does not fit ``type_``.
    """
    try:
        hook = _from_text if from_strings else _from_json
        return msgspec.convert(value, type_, strict=not from_strings, dec_hook=hook)
    except msgspec.ValidationError as error:
        raise invalid_request(error, type_) from None


def invalid_request(error: msgspec.ValidationError, type_: object = None) -> InvalidRequest:
    """The refusal of a value that msgspec found not to fit ``type_``."""
    # The pattern matches every text (its tail is optional); a problem with a mapping's
    # key ("at `key` in `$.attributes`") is reported on the mapping.
    where = _WHERE.fullmatch(str(error))
    what = where["what"] if where else str(error)
    field = _field(where["path"] or "$") if where else ""
    if isinstance(error.__cause__, RuleBroken):
        return InvalidRequest(_join(field, error.__cause__.field), error.__cause__.problem)
    if _NOT_ALLOWED.fullmatch(what):
        return InvalidRequest(field, _not_allowed(type_, field))
    for pattern, word in _PROBLEMS:
        found = pattern.fullmatch(what)
        if found is not None:
            extra, problem = word(found)
            return InvalidRequest(_join(field, extra), problem)
    # A rule of our own (raised in a Struct's __post_init__) is worded by us already.
    return InvalidRequest(field, what)


#: msgspec's "<problem> - at `$.path`", or "- at `key` in `$.path`" for a mapping's key.
_WHERE = re.compile(r"(?P<what>.*?)(?: - at (?:`(?P<key>key)` in )?`(?P<path>\$[^`]*)`)?", re.S)


def _field(path: str) -> str:
    """``$.messages[0].data`` as ``messages.0.data``; the whole body as ``""``."""
    return re.sub(r"\[(\d+)\]", r".\1", path).removeprefix("$").lstrip(".")


def _join(field: str, extra: str) -> str:
    return f"{field}.{extra}" if field and extra else field or extra


#: JSON type names as a sentence says them.
_TYPES = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
    "bytes": "base64 text",
}
_BOUNDS = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}
_UNITS = {"str": "characters", "array": "items", "object": "entries", "bytes": "bytes"}

Problem = Callable[[re.Match[str]], tuple[str, str]]


def _expected(found: re.Match[str]) -> tuple[str, str]:
    wanted = " or ".join(_TYPES.get(t.strip("`"), t) for t in found["want"].split(" | "))
    return "", f"must be {wanted}, not {_TYPES.get(found['got'], found['got'])}"


def _bound(found: re.Match[str]) -> tuple[str, str]:
    return "", f"must be {_BOUNDS[found['op']]} {found['value']}"


def _length(found: re.Match[str]) -> tuple[str, str]:
    unit = _UNITS.get(found["type"], "items")
    return "", f"must have {_BOUNDS[found['op']]} {found['value']} {unit}"


_PROBLEMS: list[tuple[re.Pattern[str], Problem]] = [
    (
        re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>\w+)`"),
        _expected,
    ),
    (
        re.compile(r"Expected `\w+` (?P<op>>=|<=|>|<) (?P<value>\S+)"),
        _bound,
    ),
    (
        re.compile(r"Expected `(?P<type>\w+)` of length (?P<op>>=|<=) (?P<value>\d+)"),
        _length,
    ),
    (
        re.compile(r"Expected `str` matching regex .*"),
        lambda _: ("", "does not have the form the schema gives (see the OpenAPI document)"),
    ),
    (
        re.compile(r"Object missing required field `(?P<name>[^`]+)`"),
        lambda found: (found["name"], "is required"),
    ),
    (
        re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"),
        lambda found: (found["name"], "is not a known field"),
    ),
    (
        re.compile(r"Invalid RFC3339 encoded datetime"),
        lambda _: ("", "is not an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z"),
    ),
    (
        re.compile(r"Number out of range|Integer value out of range"),
        lambda _: ("", "is out of range"),
    ),
    (
        re.compile(r"Invalid base64 encoded string"),
        lambda _: ("", "is not valid base64"),
    ),
]


_NOT_ALLOWED = re.compile(r"Invalid (?:enum )?value .*", re.S)


def _not_allowed(type_: object, field: str) -> str:
    """The refusal of a value outside an enum or a literal, listing the allowed ones."""
    allowed = _allowed_values(type_, field) if type_ is not None else []
    if not allowed:
        return "is not one of the allowed values (see the OpenAPI document)"
    return "must be one of " + ", ".join(allowed)


def _allowed_values(type_: object, field: str) -> list[str]:
    """The values of the enum or literal at ``field`` (a dotted path) of ``type_``."""
    info: msgspec.inspect.Type | None = msgspec.inspect.type_info(type_)
    for part in field.split(".") if field else ():
        info = _step(info, part) if info is not None else None
    if info is None:
        return []
    for option in _options(info):
        if isinstance(option, msgspec.inspect.LiteralType):
            return [str(v) for v in option.values]
        if isinstance(option, msgspec.inspect.EnumType):
            return [str(member.value) for member in option.cls]
    return []


def _options(info: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    return list(info.types) if isinstance(info, msgspec.inspect.UnionType) else [info]


def _step(info: msgspec.inspect.Type, part: str) -> msgspec.inspect.Type | None:
    """The type one path step into ``info``: a field of a struct, an item of a list (a
    number), the type a tagged union's member names (the field's struct, when unique)."""
    for option in _options(info):
        if isinstance(option, msgspec.inspect.StructType):
            for struct_field in option.fields:
                if struct_field.encode_name == part:
                    return struct_field.type
        elif isinstance(option, msgspec.inspect.ListType) and part.isdigit():
            return option.item_type
    return None
