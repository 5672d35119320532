# SPDX-License-Identifier: MIT
"""How a drive's registers look in OPC UA: data types, engineering units,
ranges, enumerations and the AddNodes items that build them.

Pure functions over axlink's :class:`~axlink.Register`; the server side is
in :mod:`axlink.opcua`. Needs asyncua (``pip install 'axlink[opcua]'``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from asyncua import ua

from ._dictionary import Register

#: axlink dtype name -> OPC UA built-in type.
VARIANT_TYPES: Dict[str, ua.VariantType] = {
    "u8": ua.VariantType.Byte, "s8": ua.VariantType.SByte,
    "u16": ua.VariantType.UInt16, "s16": ua.VariantType.Int16,
    "u32": ua.VariantType.UInt32, "s32": ua.VariantType.Int32,
    "u64": ua.VariantType.UInt64, "s64": ua.VariantType.Int64,
    "float": ua.VariantType.Float, "bool": ua.VariantType.Boolean,
    "str": ua.VariantType.String, "bytes": ua.VariantType.ByteString,
}

_NUMERIC = {"u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "float"}

#: Units our dictionaries use -> UN/CEFACT common code (Recommendation 20),
#: the unit scheme OPC UA Part 8 names for EUInformation.
UNECE_CODES: Dict[str, str] = {
    "A": "AMP", "V": "VLT", "W": "WTT", "Hz": "HTZ", "kHz": "KHZ", "s": "SEC",
    "ms": "C26", "us": "B98", "°C": "CEL", "degC": "CEL", "C": "CEL", "Ohm": "OHM",
    "H": "81D", "mH": "C14", "rev/s": "RPS", "rps": "RPS", "rpm": "RPM", "rev": "REV",
    "deg": "DD", "rad": "C81", "rad/s": "2A", "mm": "MMT", "m": "MTR", "mm/s": "C16",
    "m/s": "MTS", "N": "NEU", "Nm": "NU", "N·m": "NU", "%": "P1", "rev/s2": "",
    "rev/s^2": "", "cnt": "", "counts": "",
}

UNITS_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


def unece_unit_id(code: str) -> int:
    """The EUInformation.UnitId of a UN/CEFACT common code (OPC UA Part 8:
    its characters packed big-endian into an Int32), or -1 for none."""
    if not code:
        return -1
    v = 0
    for ch in code.upper():
        v = (v << 8) | ord(ch)
    return v


def eu_information(units: str) -> Optional[ua.EUInformation]:
    """EUInformation for a dictionary's units text, or None for none."""
    if not units or units.lower() == "none":
        return None
    code = UNECE_CODES.get(units, "")
    return ua.EUInformation(NamespaceUri=UNITS_NAMESPACE, UnitId=unece_unit_id(code),
                            DisplayName=ua.LocalizedText(units),
                            Description=ua.LocalizedText(units))


def variant_type(reg: Register) -> ua.VariantType:
    """The OPC UA type that carries @reg's values exactly."""
    try:
        return VARIANT_TYPES[reg.dtype]
    except KeyError:
        return ua.VariantType.ByteString


def to_variant(reg: Register, value: Any) -> ua.Variant:
    """@value as read from @reg, in @reg's OPC UA type."""
    vt = variant_type(reg)
    if vt == ua.VariantType.ByteString and isinstance(value, str):
        value = value.encode()
    return ua.Variant(value, vt)


def from_variant(reg: Register, variant: ua.Variant) -> Any:
    """A client's value for @reg as axlink's write takes it; the library
    checks range and type. Raises TypeError for a value of another kind."""
    v = variant.Value
    if v is None:
        raise TypeError(f"register '{reg.id}' needs a value, the write carries none")
    if reg.dtype in _NUMERIC and isinstance(v, (bytes, str, list)):
        raise TypeError(f"register '{reg.id}' is {reg.dtype}, the write carries "
                        f"{variant.VariantType.name}")
    if reg.dtype == "float" and isinstance(v, float) and not math.isfinite(v):
        return v  # the library refuses it with its own message (RangeError)
    return v


def zero(reg: Register) -> Any:
    """A placeholder value of @reg's type until the drive is read."""
    vt = variant_type(reg)
    if vt == ua.VariantType.String:
        return ""
    if vt == ua.VariantType.ByteString:
        return b""
    if vt == ua.VariantType.Boolean:
        return False
    if vt in (ua.VariantType.Float, ua.VariantType.Double):
        return 0.0
    return 0


@dataclass
class RegisterNodes:
    """The AddNodes items of one register: its variable and properties."""

    variable: ua.AddNodesItem
    properties: List[ua.AddNodesItem]


def _property(parent: ua.NodeId, ns: int, name: str, value: ua.Variant,
              datatype: ua.NodeId, value_rank: int = ua.ValueRank.Scalar) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = ua.NodeId(f"{parent.Identifier}.{name}", ns)
    item.BrowseName = ua.QualifiedName(name, 0)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = ua.NodeId(ua.ObjectIds.HasProperty)
    item.TypeDefinition = ua.NodeId(ua.ObjectIds.PropertyType)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(name)
    attrs.DataType = datatype
    attrs.Value = value
    attrs.ValueRank = value_rank
    if value_rank == ua.ValueRank.OneDimension:
        attrs.ArrayDimensions = [len(value.Value)]
    attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    item.NodeAttributes = attrs
    return item


def _enum_contiguous(enums: Dict[int, str]) -> bool:
    return sorted(enums) == list(range(len(enums)))


def register_nodes(reg: Register, node_id: ua.NodeId, parent: ua.NodeId,
                   ns: int) -> RegisterNodes:
    """The variable of @reg, typed as OPC UA Part 8 data items where they fit:
    AnalogItemType (a numeric register with a range, EURange and
    EngineeringUnits), AnalogUnitType (units but no range),
    MultiStateDiscreteType / MultiStateValueDiscreteType (enumerations,
    EnumStrings / EnumValues), BaseDataVariableType otherwise."""
    vt = variant_type(reg)
    numeric = reg.dtype in _NUMERIC
    rng = reg.range if numeric else None
    eu = eu_information(reg.units) if numeric else None
    enums = reg.enums if reg.dtype in _NUMERIC - {"float"} else {}
    props: List[ua.AddNodesItem] = []
    if enums and _enum_contiguous(enums):
        typedef = ua.ObjectIds.MultiStateDiscreteType
        texts = [ua.LocalizedText(enums[i]) for i in range(len(enums))]
        props.append(_property(node_id, ns, "EnumStrings",
                               ua.Variant(texts, ua.VariantType.LocalizedText),
                               ua.NodeId(ua.ObjectIds.LocalizedText), ua.ValueRank.OneDimension))
    elif enums:
        typedef = ua.ObjectIds.MultiStateValueDiscreteType
        values = [ua.EnumValueType(Value=k, DisplayName=ua.LocalizedText(t),
                                   Description=ua.LocalizedText(t))
                  for k, t in sorted(enums.items())]
        props.append(_property(node_id, ns, "EnumValues",
                               ua.Variant(values, ua.VariantType.ExtensionObject),
                               ua.NodeId(ua.ObjectIds.EnumValueType), ua.ValueRank.OneDimension))
    elif rng is not None:
        typedef = ua.ObjectIds.AnalogItemType
    elif eu is not None:
        typedef = ua.ObjectIds.AnalogUnitType
    else:
        typedef = ua.ObjectIds.BaseDataVariableType
    if rng is not None and not enums:
        props.append(_property(node_id, ns, "EURange",
                               ua.Variant(ua.Range(Low=float(rng[0]), High=float(rng[1])),
                                          ua.VariantType.ExtensionObject),
                               ua.NodeId(ua.ObjectIds.Range)))
    if eu is not None and not enums:
        props.append(_property(node_id, ns, "EngineeringUnits",
                               ua.Variant(eu, ua.VariantType.ExtensionObject),
                               ua.NodeId(ua.ObjectIds.EUInformation)))

    item = ua.AddNodesItem()
    item.RequestedNewNodeId = node_id
    item.BrowseName = ua.QualifiedName(reg.id, ns)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = ua.NodeId(ua.ObjectIds.Organizes)
    item.TypeDefinition = ua.NodeId(typedef)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(reg.id)
    attrs.Description = ua.LocalizedText(reg.label or reg.description or reg.id)
    attrs.DataType = ua.NodeId(int(vt))
    attrs.Value = ua.Variant(zero(reg), vt)
    attrs.ValueRank = ua.ValueRank.Scalar
    level = 0
    if reg.readable:
        level |= ua.AccessLevel.CurrentRead.mask
    if reg.writable:
        level |= ua.AccessLevel.CurrentWrite.mask
    attrs.AccessLevel = level
    attrs.UserAccessLevel = level
    attrs.MinimumSamplingInterval = 1.0
    item.NodeAttributes = attrs
    return RegisterNodes(item, props)


def browse_name(model: Optional[str], serial: Optional[int], uri: str) -> str:
    """A drive object's browse name: model and serial number ("axs-100 5001"),
    or the URI when the drive reported neither."""
    if model and serial is not None:
        return f"{model} {serial}"
    if serial is not None:
        return f"drive {serial}"
    return uri


def node_key(text: str) -> str:
    """@text made safe as part of a string NodeId."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def status_for(exc: BaseException) -> Tuple[int, str]:
    """The OPC UA status code for an axlink exception of a write or call."""
    from . import errors

    if isinstance(exc, errors.RangeError):
        return ua.StatusCodes.BadOutOfRange, "BadOutOfRange"
    if isinstance(exc, errors.AccessError):
        return ua.StatusCodes.BadNotWritable, "BadNotWritable"
    if isinstance(exc, (errors.TypeMismatchError, TypeError)):
        return ua.StatusCodes.BadTypeMismatch, "BadTypeMismatch"
    if isinstance(exc, (errors.InvalidArgumentError, ValueError)):
        return ua.StatusCodes.BadOutOfRange, "BadOutOfRange"
    if isinstance(exc, errors.TimeoutError):
        return ua.StatusCodes.BadTimeout, "BadTimeout"
    if isinstance(exc, errors.StateError):
        return ua.StatusCodes.BadInvalidState, "BadInvalidState"
    if isinstance(exc, errors.NackError):
        return ua.StatusCodes.BadNotWritable, "BadNotWritable"
    return ua.StatusCodes.BadCommunicationError, "BadCommunicationError"
