"""Codecs: convert between typed Python values and their VISS wire form.

On the VISS wire every scalar is a JSON string ("42", "true", "3.5"), an array is a JSON
array of such strings and a struct is a JSON object keyed by the VSS property names
(viss-core.md section 3.1). A codec also checks a value against the limits of the VSS
node (min/max, allowed list) and of its datatype BEFORE it is sent, so that a bad value
fails here with a precise message instead of coming back as a `400 invalid_data`.

encode() raises TypeError for a value of the wrong Python type and ValueError for a value
of the right type that is out of range or not allowed; decode() raises ValueError for a
wire value that does not parse.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

__all__ = [
    "Codec",
    "array",
    "boolean",
    "floating",
    "integer",
    "one_of",
    "string",
    "struct",
]

T = TypeVar("T")
R = TypeVar("R")

# The datatype's own range for every VSS integer type.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}

# The largest finite magnitude of each VSS floating-point type.
_FLOAT_LIMITS: dict[str, float] = {
    "float": 3.4028234663852886e38,
    "double": 1.7976931348623157e308,
}

# Numbers inside the wire strings use JSON (RFC 8259) number syntax; Python's own int() and
# float() accept more ("inf", "1_000", surrounding blanks), which the wire does not allow.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class Codec(Generic[T]):
    """Converts values of type T to and from the wire; subclasses implement both directions."""

    vss_type: str

    def __init__(self, vss_type: str) -> None:
        self.vss_type = vss_type

    def encode(self, value: T) -> object:
        """The wire form of `value`; raises TypeError/ValueError before anything is sent."""
        raise NotImplementedError

    def decode(self, wire: object) -> T:
        """The typed value of a wire value; raises ValueError when it does not parse."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.vss_type}>"


def _wire_string(wire: object, vss_type: str) -> str:
    if not isinstance(wire, str):
        raise ValueError(f"{vss_type}: expected a JSON string on the wire, got {wire!r}")
    return wire


def _within(label: str, convert: Callable[[], R]) -> R:
    """Runs `convert`, prefixing an error with the array index or struct member it concerns."""
    try:
        return convert()
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"{label}: {error}") from error


class _BooleanCodec(Codec[bool]):
    def encode(self, value: bool) -> object:
        if not isinstance(value, bool):
            raise TypeError(f"boolean: expected bool, got {type(value).__name__}")
        return "true" if value else "false"

    def decode(self, wire: object) -> bool:
        text = _wire_string(wire, self.vss_type)
        if text not in ("true", "false"):
            raise ValueError(f"boolean: {text!r} is neither 'true' nor 'false'")
        return text == "true"


class _StringCodec(Codec[str]):
    def encode(self, value: str) -> object:
        if not isinstance(value, str):
            raise TypeError(f"string: expected str, got {type(value).__name__}")
        return value

    def decode(self, wire: object) -> str:
        return _wire_string(wire, self.vss_type)


class _IntegerCodec(Codec[int]):
    def __init__(self, vss_type: str, min: int | None, max: int | None) -> None:
        super().__init__(vss_type)
        low, high = _INT_RANGES[vss_type]
        # The effective bounds: the node's limits, never wider than the datatype.
        self.min = low if min is None else builtins.max(low, min)
        self.max = high if max is None else builtins.min(high, max)

    def encode(self, value: int) -> object:
        # bool is a subclass of int, but True is not a seat position.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.vss_type}: expected int, got {type(value).__name__}")
        if not self.min <= value <= self.max:
            raise ValueError(f"{self.vss_type}: {value} is outside {self.min}..{self.max}")
        return str(value)

    def decode(self, wire: object) -> int:
        text = _wire_string(wire, self.vss_type)
        if not _JSON_NUMBER.fullmatch(text):
            raise ValueError(f"{self.vss_type}: {text!r} is not a number")
        # Decimal is exact for 64-bit values and accepts what RFC 8259 allows for an integral
        # value ("1e3", "12.0"); the range check comes first so "1e999999" stays cheap.
        exact = Decimal(text)
        low, high = _INT_RANGES[self.vss_type]
        if not low <= exact <= high:
            raise ValueError(f"{self.vss_type}: {text} is outside the type's range")
        if exact != exact.to_integral_value():
            raise ValueError(f"{self.vss_type}: {text!r} is not an integer")
        return int(exact)


class _FloatingCodec(Codec[float]):
    def __init__(self, vss_type: str, min: float | None, max: float | None) -> None:
        super().__init__(vss_type)
        limit = _FLOAT_LIMITS[vss_type]
        self.min = -limit if min is None else builtins.max(-limit, float(min))
        self.max = limit if max is None else builtins.min(limit, float(max))

    def encode(self, value: float) -> object:
        # An int is a fine float (the interface says "accept int too"); a bool is not.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{self.vss_type}: expected float, got {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{self.vss_type}: {value} is outside the type's range") from None
        # NaN and infinities have no JSON number syntax, so the server could not parse them.
        if not math.isfinite(number):
            raise ValueError(f"{self.vss_type}: {value} is not a finite number")
        if not self.min <= number <= self.max:
            raise ValueError(f"{self.vss_type}: {value} is outside {self.min}..{self.max}")
        return str(value) if isinstance(value, int) else repr(number)

    def decode(self, wire: object) -> float:
        text = _wire_string(wire, self.vss_type)
        if not _JSON_NUMBER.fullmatch(text):
            raise ValueError(f"{self.vss_type}: {text!r} is not a number")
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"{self.vss_type}: {text!r} is outside the type's range")
        return number


class _OneOfCodec(Codec[T]):
    def __init__(self, base: Codec[Any], allowed: Sequence[T]) -> None:
        super().__init__(base.vss_type)
        self.base = base
        self.allowed = tuple(allowed)

    def encode(self, value: T) -> object:
        if value not in self.allowed:
            raise ValueError(f"{self.vss_type}: {value!r} is not one of {list(self.allowed)!r}")
        return self.base.encode(value)

    def decode(self, wire: object) -> T:
        value = self.base.decode(wire)
        for candidate in self.allowed:
            if candidate == value:
                return candidate
        raise ValueError(f"{self.vss_type}: {value!r} is not one of {list(self.allowed)!r}")


class _ArrayCodec(Codec[list[T]]):
    def __init__(self, element: Codec[T]) -> None:
        super().__init__(element.vss_type + "[]")
        self.element = element

    def encode(self, value: list[T]) -> object:
        # A str is a Sequence too, but "abc" is not meant as ["a", "b", "c"].
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{self.vss_type}: expected a list, got {type(value).__name__}")
        # VISS has no empty array value (the server answers 400): refused before sending.
        if len(value) == 0:
            raise ValueError(f"{self.vss_type}: an empty array is not a VISS value")
        return [self._encode_at(index, item) for index, item in enumerate(value)]

    def _encode_at(self, index: int, item: T) -> object:
        return _within(f"{self.vss_type}[{index}]", lambda: self.element.encode(item))

    def decode(self, wire: object) -> list[T]:
        if not isinstance(wire, list):
            raise ValueError(f"{self.vss_type}: expected a JSON array on the wire, got {wire!r}")
        return [self._decode_at(index, item) for index, item in enumerate(wire)]

    def _decode_at(self, index: int, item: object) -> T:
        return _within(f"{self.vss_type}[{index}]", lambda: self.element.decode(item))


class _StructCodec(Codec[Any]):
    def __init__(self, vss_name: str, members: Mapping[str, Codec[Any]]) -> None:
        super().__init__(vss_name)
        self.members = dict(members)

    def encode(self, value: Any) -> object:
        if not isinstance(value, Mapping):
            raise TypeError(f"{self.vss_type}: expected a dict, got {type(value).__name__}")
        unknown = sorted(set(value) - set(self.members))
        if unknown:
            raise TypeError(f"{self.vss_type}: unknown members {unknown}")
        missing = [name for name in self.members if name not in value]
        if missing:
            raise TypeError(f"{self.vss_type}: missing members {missing}")
        return {name: self._encode_member(name, value[name]) for name in self.members}

    def _encode_member(self, name: str, item: object) -> object:
        return _within(f"{self.vss_type}.{name}", lambda: self.members[name].encode(item))

    def decode(self, wire: object) -> Any:
        if not isinstance(wire, dict):
            raise ValueError(f"{self.vss_type}: expected a JSON object on the wire, got {wire!r}")
        missing = [name for name in self.members if name not in wire]
        if missing:
            raise ValueError(f"{self.vss_type}: the wire value lacks members {missing}")
        # Members the tree does not (yet) know are ignored: a newer server may add some.
        return {name: self._decode_member(name, wire[name]) for name in self.members}

    def _decode_member(self, name: str, item: object) -> Any:
        return _within(f"{self.vss_type}.{name}", lambda: self.members[name].decode(item))


def boolean() -> Codec[bool]:
    """A VSS boolean: True/False <-> "true"/"false"."""
    return _BooleanCodec("boolean")


def string() -> Codec[str]:
    """A VSS string, sent as it is."""
    return _StringCodec("string")


def integer(vss_type: str, min: int | None = None, max: int | None = None) -> Codec[int]:
    """A VSS integer type (int8 ... uint64) limited to [min, max] within the type's own range."""
    if vss_type not in _INT_RANGES:
        raise ValueError(f"not a VSS integer type: {vss_type!r}")
    return _IntegerCodec(vss_type, min, max)


def floating(vss_type: str, min: float | None = None, max: float | None = None) -> Codec[float]:
    """A VSS float or double limited to [min, max]; encode() accepts an int too."""
    if vss_type not in _FLOAT_LIMITS:
        raise ValueError(f"not a VSS floating-point type: {vss_type!r}")
    return _FloatingCodec(vss_type, min, max)


def one_of(base: Codec[Any], allowed: Sequence[T]) -> Codec[T]:
    """`base` restricted to the node's `allowed` values."""
    return _OneOfCodec(base, allowed)


def array(element: Codec[T]) -> Codec[list[T]]:
    """A VSS array (e.g. uint8[]) of `element` values."""
    return _ArrayCodec(element)


def struct(vss_name: str, members: dict[str, Codec[Any]]) -> Codec[Any]:
    """A VSS struct: a dict keyed by the VSS property names, every member required."""
    return _StructCodec(vss_name, members)
