"""One cattrs converter for every model, with the camelCase rule declared once.

Decoding never lets a cattrs or ``json`` exception escape: :func:`decode`
raises :class:`~floimg_async.ResponseDecodeError` naming what was wrong.
"""

from __future__ import annotations

import json
import linecache
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from types import MemberDescriptorType
from typing import Any, Optional, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import ResponseDecodeError, excerpt
from ._json import loads
from ._models import Execution, ExecutionStatus, WorkflowParameter

__all__ = [
    "converter",
    "decode",
    "fast_decoder",
    "list_structurer",
    "load_json",
    "structure",
    "to_camel",
    "unstructure",
]

T = TypeVar("T")

_FRACTION = re.compile(r"\.(\d+)(?=[+-]\d|$)")


def to_camel(name: str) -> str:
    """Return the API's camelCase spelling of a snake_case field name."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _parse_datetime(value: Any, _: type) -> datetime:
    """ISO 8601 (``Z`` or an offset; naive means UTC) or Unix seconds → aware datetime."""
    if type(value) is str:
        # Fast path: Python 3.11+ reads "…Z" and any fraction itself.
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment
            return moment.replace(tzinfo=timezone.utc)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # Some servers send epoch milliseconds; no date this SDK sees is before 2001.
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Python 3.10 takes only 3 or 6 fraction digits; servers send 1 to 9.
        text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
        moment = datetime.fromisoformat(text)
    else:
        raise TypeError(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _parse_status(value: Any, _: type) -> ExecutionStatus:
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a status string, got {value!r}")
    return ExecutionStatus(value)


def _error_message(value: Any, _: type) -> str | None:
    """An execution's ``error``: a message string, or the ``message`` of an error object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        message = value.get("message") or value.get("error") or value.get("code")
        return str(message) if message is not None else json.dumps(value, default=str)
    return str(value)


def _as_str(value: Any, _: type) -> str:
    if type(value) is str:
        return value
    # A number is read as its text (liberal: an id sent as 42); null, true/false and
    # objects are not strings: str() would invent "None", "True" or a Python repr.
    if value is None or isinstance(value, bool | dict | list):
        got = "null" if value is None else type(value).__name__
        raise TypeError(f"expected a string, got {got}")
    return str(value)


def _as_int(value: Any, _: type) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return int(value)


# One frame for the common case: these run for nearly every field of every item.
def _optional_str(value: Any, target: type) -> str | None:
    if value is None or type(value) is str:
        return value
    return _as_str(value, target)


def _optional_int(value: Any, target: type) -> int | None:
    if value is None or type(value) is int:
        return value
    return _as_int(value, target)


def _optional_datetime(value: Any, target: type) -> datetime | None:
    return None if value is None else _parse_datetime(value, target)


# Scalar hooks the compiled hooks write inline: hook -> (type, fallback, None allowed).
_INLINE_CHECKS: dict[Callable[[Any, type], Any], tuple[str, str, bool]] = {
    _as_str: ("_str", "_as_str", False),
    _optional_str: ("_str", "_as_str", True),
    _as_int: ("_int", "_as_int", False),
    _optional_int: ("_int", "_as_int", True),
}


def _parameters(conv: cattrs.Converter) -> Callable[[Any, type], Any]:
    """A workflow's parameter list, without cattrs' generic tuple machinery."""

    hooks: list[Callable[[Any, type], WorkflowParameter]] = []

    def structure_parameters(value: Any, _: type) -> tuple[WorkflowParameter, ...]:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list of parameters, got {type(value).__name__}")
        if not hooks:
            hooks.append(conv.get_structure_hook(WorkflowParameter))
        hook = hooks[0]
        return tuple([hook(item, WorkflowParameter) for item in value])

    return structure_parameters


def _compiled_hook(
    cls: type[Any], hooks: Mapping[str, Callable[[Any, Any], Any]]
) -> tuple[Callable[[Any, type], Any], Callable[[Any], list[Any]]] | None:
    """A structure hook for ``cls`` with its scalar fields' checks written inline.

    ``hooks`` maps each field to the hook cattrs would call for it. The result
    builds the same model cattrs' generated hook does (a property test holds the
    two together), but a listing decodes one model per item, and there the calls
    cattrs' code makes per field (into :func:`_optional_str` and friends) cost
    more than the checks themselves. Returns None for a class it does not know
    how to build (factory defaults, fields left out of ``__init__`` or
    keyword-only); cattrs' own generated hook is used then.

    The second function returned structures a whole list of items (a listing
    page) with the same code inlined in one loop: no call per item, and every
    field read by a plain subscript (cheaper than ``dict.get``) while items
    carry every field, as the API's listings do. At the first item that lacks
    one, the rest of the list reads field by field with ``dict.get``, as the
    single-item hook does, so a sparse page pays for one ``KeyError``.
    """
    env: dict[str, Any] = {
        "_cls": cls,
        "_as_str": _as_str,
        "_as_int": _as_int,
        "_datetime": _parse_datetime,
        "_dt": datetime,
        "_fromiso": datetime.fromisoformat,
        "_utc": timezone.utc,
        "_str": str,
        "_int": int,
    }
    takes: list[str] = []  # reading field i from the mapping ``o``, absent -> default
    presents: list[str] = []  # the same when the raw value is already in ``v{i}``
    checks: list[str] = []  # checks and conversions of the value in ``v{i}``
    args = []
    wires = []
    for i, field in enumerate(attrs.fields(cls)):
        if not field.init or field.kw_only or isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            return None
        wire = field.metadata.get("wire", to_camel(field.name))
        required = field.default is attrs.NOTHING
        v = f"v{i}"
        args.append(v)
        wires.append(wire)
        env[f"d{i}"] = field.default
        # Absent optional fields take the default; a valid default passes the
        # scalar checks below unchanged, so absent and present share one lookup.
        take = f"{v} = o[{wire!r}]" if required else f"{v} = get({wire!r}, d{i})"
        hook = hooks[field.name]
        if hook in _INLINE_CHECKS:
            kind, convert, optional = _INLINE_CHECKS[hook]
            test = f"type({v}) is not {kind}"
            if optional:
                test = f"{v} is not None and {test}"
            takes.append(take)
            checks += [f"if {test}:", f"    {v} = {convert}({v}, {kind})"]
        elif hook is _optional_datetime:
            # _parse_datetime's fast path, inline; anything unusual goes to it whole.
            takes.append(take)
            # fromisoformat raises TypeError for anything but a string (numbers,
            # objects): those, and strings it cannot read, go to _parse_datetime.
            checks += [
                f"if {v} is not None:",
                "    try:",
                f"        {v} = _fromiso({v})",
                "    except (TypeError, ValueError):",
                f"        {v} = _datetime({v}, _dt)",
                "    else:",
                f"        if {v}.tzinfo is None:",
                f"            {v} = {v}.replace(tzinfo=_utc)",
            ]
        elif field.type is Any:
            takes.append(take)
        else:
            # Any other field calls its hook as cattrs' code would, and a plain
            # constructor (``bool``) directly, as cattrs does too.
            env[f"h{i}"], env[f"t{i}"] = hook, field.type
            if hook is cattrs.BaseConverter._structure_call:
                call = f"t{i}({{}})"
            else:
                call = f"h{i}({{}}, t{i})"
            got = call.format(f"o[{wire!r}]")
            takes.append(f"{v} = {got}" if required else f"{v} = {got} if {wire!r} in o else d{i}")
            presents.append(f"{v} = {call.format(v)}")
    twin = _mutable_twin(cls)
    setters = None if twin is not None else _slot_setters(cls)
    if twin is not None:
        # Fill a mutable twin's slots with plain assignments, then make it a
        # ``cls``: the cheapest way to build a frozen slotted object in Python
        # (under half the cost of a slot setter call per field; the property
        # tests hold the result equal to what cattrs builds).
        env["_Twin"] = twin
        build = ["self = _Twin()"]
        build += [
            f"self.{field.name} = {arg}" for field, arg in zip(attrs.fields(cls), args, strict=True)
        ]
        build.append("self.__class__ = _cls")
    elif setters is None:
        build = [f"self = _cls({', '.join(args)})"]
    else:
        # A frozen slotted class with nothing in its __init__ but assignments: fill
        # the slots directly (a third cheaper per item than the frozen __init__'s
        # object.__setattr__ calls; the property test holds both to the same result).
        env["_new"] = object.__new__
        build = ["self = _new(_cls)"]
        for i, setter in enumerate(setters):
            env[f"s{i}"] = setter
            build.append(f"s{i}(self, {args[i]})")
    subscripts = [f"{v} = o[{wire!r}]" for v, wire in zip(args, wires, strict=True)]

    def indent(lines: list[str], depth: int) -> list[str]:
        return ["    " * depth + line for line in lines]

    lines = [
        "def structure(o, _=None):",
        "    get = o.get",
        *indent(takes, 1),
        *indent(checks, 1),
        *indent(build, 1),
        "    return self",
        "",
        "def structure_list(items):",
        "    out = []",
        "    append = out.append",
        "    whole = True",
        "    for o in items:",
        "        if whole:",
        "            try:",
        *indent(subscripts, 4),
        "            except KeyError:",
        "                whole = False",
        "            else:",
        *indent(presents or ["pass"], 4),
        "        if not whole:",
        "            get = o.get",
        *indent(takes, 3),
        *indent(checks, 2),
        *indent(build, 2),
        "        append(self)",
        "    return out",
    ]
    source = "\n".join(lines) + "\n"
    filename = f"<floimg_async structure {cls.__module__}.{cls.__qualname__}>"
    # Registered like cattrs' own generated code, so tracebacks and profilers show it.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)
    return env["structure"], env["structure_list"]


def _mutable_twin(cls: type[Any]) -> type[Any] | None:
    """A plain slotted class whose instances can become ``cls`` by ``__class__`` assignment.

    The twin has ``cls``'s bases and slots and nothing else, so CPython accepts
    ``twin_instance.__class__ = cls`` (it checks the two layouts agree and
    raises TypeError otherwise; that is tried here once). None when building
    ``cls`` needs more than assignments (see :func:`_slot_setters`), or when
    the layouts differ: on CPython a class that adds ``__weakref__`` next to
    other slots cannot take part, hence ``_JSONModel`` holds ``__weakref__``.
    """
    if _slot_setters(cls) is None or "__slots__" not in cls.__dict__:
        return None
    names = [field.name for field in attrs.fields(cls)]
    if any(not name.isidentifier() or name.startswith("__") for name in names):
        return None
    twin = type(f"_Mutable{cls.__name__}", cls.__bases__, {"__slots__": cls.__dict__["__slots__"]})
    probe = twin()
    try:
        probe.__class__ = cls
    except TypeError:
        return None
    return twin


def _slot_setters(cls: type[Any]) -> list[Callable[[Any, Any], None]] | None:
    """Each field's slot setter, when building ``cls`` needs nothing but assignments.

    None when the class has anything its ``__init__`` would run besides them:
    validators, converters, ``__attrs_post_init__``/``__attrs_pre_init__``, or
    a field without a slot of its own.
    """
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return None
    setters = []
    for field in attrs.fields(cls):
        if field.validator is not None or field.converter is not None:
            return None
        slot: Any = getattr(cls, field.name, None)
        if not isinstance(slot, MemberDescriptorType):
            return None
        setters.append(slot.__set__)
    return setters


def _make_converter(*, detailed: bool) -> cattrs.Converter:
    """The converter; ``detailed`` trades speed for error messages that say where."""
    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=detailed)
    conv.register_structure_hook(datetime, _parse_datetime)
    conv.register_structure_hook(str, _as_str)
    conv.register_structure_hook(ExecutionStatus, _parse_status)
    # Direct hooks for the optional scalars every model is full of: cattrs' generic
    # union handling costs more than the rest of decoding an item.
    conv.register_structure_hook(Optional[str], _optional_str)  # noqa: UP045
    conv.register_structure_hook(Optional[int], _optional_int)  # noqa: UP045
    conv.register_structure_hook(Optional[datetime], _optional_datetime)  # noqa: UP045
    if not detailed:  # the explaining converter keeps cattrs' own, which says which item
        parameters = tuple[WorkflowParameter, ...]
        conv.register_structure_hook_func(lambda t: t == parameters, _parameters(conv))

    def attrs_hook_factory(cls: type[Any]) -> Callable[[Any, type], Any]:
        overrides: dict[str, Any] = {}
        hooks: dict[str, Callable[[Any, Any], Any]] = {}
        aliases: list[tuple[str, tuple[str, ...]]] = []
        for field in attrs.fields(attrs.resolve_types(cls)):
            wire = field.metadata.get("wire", to_camel(field.name))
            hook = _error_message if (cls is Execution and field.name == "error") else None
            overrides[field.name] = override(rename=wire, struct_hook=hook)
            hooks[field.name] = hook or conv.get_structure_hook(field.type)
            if field.metadata.get("aliases"):
                aliases.append((wire, field.metadata["aliases"]))
        # The explaining converter keeps cattrs' generated code: it says where it failed.
        compiled = None if detailed else _compiled_hook(cls, hooks)
        base = make_dict_structure_fn(cls, conv, **overrides) if compiled is None else compiled[0]
        if not aliases:
            if compiled is not None:
                _LIST_HOOKS[cls] = compiled[1]
            return base

        def with_aliases(data: Any, target: type) -> Any:
            if isinstance(data, Mapping):
                for wire, others in aliases:
                    if wire not in data:
                        for other in others:
                            if other in data:
                                data = {**data, wire: data[other]}
                                break
            return base(data, target)

        return with_aliases

    conv.register_structure_hook_factory(attrs.has, attrs_hook_factory)
    return conv


#: Per class, the compiled function that structures a whole list of items
#: (filled by the fast converter's factory; see :func:`list_structurer`).
_LIST_HOOKS: dict[type[Any], Callable[[Any], list[Any]]] = {}

converter = _make_converter(detailed=False)
_explaining_converter = _make_converter(detailed=True)


def list_structurer(cls: type[T]) -> Callable[[Any], list[T]]:
    """A function turning a list of decoded JSON items into a list of ``cls``.

    For a model with a compiled hook it is the compiled loop (no call per
    item); otherwise a loop over the converter's hook. Raises what the hook
    raises; callers word it (``_pagination.parse_page`` does).
    """
    many = _LIST_HOOKS.get(cls)
    if many is not None:
        return many
    hook = converter.get_structure_hook(cls)  # compiles cls's hooks on first use
    many = _LIST_HOOKS.get(cls)
    if many is None:

        def many(items: Any) -> list[Any]:
            return [hook(item, cls) for item in items]

        _LIST_HOOKS[cls] = many
    return many


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return f"{type(exc).__name__}: {exc}"


def structure(data: Any, cls: type[T], *, what: str, status: int = 200) -> T:
    """Turn decoded JSON into ``cls``, or raise :class:`ResponseDecodeError`."""
    try:
        return converter.structure(data, cls)
    except Exception as fast_error:
        # The fast converter's errors do not say where; ask the detailed one.
        try:
            _explaining_converter.structure(data, cls)
        except Exception as detailed_error:
            exc: Exception = detailed_error
        else:
            exc = fast_error
        try:
            shown = excerpt(json.dumps(data, default=str).encode())
        except (TypeError, ValueError, RecursionError):
            shown = ""
        raise ResponseDecodeError(
            f"the API's {what} response does not have the documented shape ({_describe(exc)})",
            status=status,
            body_excerpt=shown,
        ) from exc


def load_json(body: bytes, *, what: str, status: int = 200) -> Any:
    """Parse a response body as JSON, or raise :class:`ResponseDecodeError`."""
    try:
        return loads(body)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
        raise ResponseDecodeError(
            f"the API's {what} response is not valid JSON ({exc}); body starts: {excerpt(body)!r}",
            status=status,
            body_excerpt=excerpt(body),
        ) from exc


def decode(body: bytes, cls: type[T], *, what: str, status: int = 200) -> T:
    """Parse and structure a response body into ``cls`` in one step."""
    return structure(load_json(body, what=what, status=status), cls, what=what, status=status)


def fast_decoder(cls: type[T], *, what: str) -> Callable[[bytes, int], T]:
    """A decoder for one model, for the hot path: the structure hook is looked up once.

    Any failure goes through :func:`decode`, which raises the worded
    :class:`ResponseDecodeError`.
    """
    hook = converter.get_structure_hook(cls)

    def decode_fast(body: bytes, status: int) -> T:
        try:
            result: T = hook(loads(body), cls)
        except Exception:
            return decode(body, cls, what=what, status=status)
        return result

    return decode_fast


def decode_optional_json(body: bytes, status: int) -> Any:
    """Plain JSON of a body, or None for an empty one (``client.request``)."""
    if not body.strip():
        return None
    return load_json(body, what="request", status=status)


# The other direction: models to JSON-ready dicts, with the same camelCase rule.


def _format_datetime(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; a naive datetime is taken as UTC (as when decoding)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _make_unstructurer(*, include_none: bool) -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(datetime, _format_datetime)
    # An unknown status is a pseudo-member whose value is the server's own string.
    conv.register_unstructure_hook(ExecutionStatus, lambda status: str(status.value))

    def attrs_hook_factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        overrides: dict[str, Any] = {
            field.name: override(rename=field.metadata.get("wire", to_camel(field.name)))
            for field in attrs.fields(attrs.resolve_types(cls))
        }
        base = make_dict_unstructure_fn(cls, conv, **overrides)
        if include_none:
            return base

        def unstructure_model(obj: Any) -> dict[str, Any]:
            return {key: value for key, value in base(obj).items() if value is not None}

        return unstructure_model

    conv.register_unstructure_hook_factory(attrs.has, attrs_hook_factory)
    # Tuples (a workflow's parameters) become JSON lists.
    conv.register_unstructure_hook_func(
        lambda t: t is tuple or getattr(t, "__origin__", None) is tuple,
        lambda value: [conv.unstructure(item) for item in value],
    )
    return conv


_unstructurer = _make_unstructurer(include_none=False)
_unstructurer_with_none = _make_unstructurer(include_none=True)


def unstructure(model: Any, *, include_none: bool = False) -> dict[str, Any]:
    """A model as a JSON-ready dict: camelCase names, ISO 8601 UTC times.

    ``None`` fields are left out unless ``include_none`` (then they are ``null``).
    """
    converter = _unstructurer_with_none if include_none else _unstructurer
    result: dict[str, Any] = converter.unstructure(model)
    return result
