"""The tool registry: typed functions declared once, with a name, a schema and a read-only flag.

The same registry feeds the skills (direct calls), the LLM agent (Anthropic tool use) and,
later, the MCP server. A tool is a plain function whose first parameter is the context it
reads (workspace, profiles, skills); its other parameters become the JSON input schema,
described with `Annotated[type, "description"]`. Tools return data, never formatted text.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_SCALARS: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
# A dataclass field with this metadata key stays out of what callers (an LLM) are sent.
HIDDEN = "perfpilot.hidden"


class ToolError(Exception):
    """A tool cannot answer; the message is for whoever called it (a person or a model)."""


@dataclass(frozen=True)
class Tool:
    """One tool: its function and what a caller needs to know to call it."""

    name: str
    description: str
    function: Callable[..., Any]
    input_schema: dict[str, Any]
    read_only: bool
    # Beyond reading: may it destroy or overwrite what exists (None: "not read-only" says so)?
    destructive: bool | None = None
    # Does it run the user's code (a program, the tests)? Surfaces gate such tools.
    runs_user_code: bool = False

    def call(self, context: object, arguments: Mapping[str, object]) -> Any:
        """Check `arguments` against the schema, then run the tool; ToolError when invalid."""
        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.name}: arguments must be an object")
        check_arguments(self.input_schema, arguments, self.name)
        return self.function(context, **arguments)

    def spec(self) -> dict[str, Any]:
        """The Anthropic tool definition: name, description, input_schema."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


class ToolRegistry:
    """Tools by name, in declaration order."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def tool(
        self,
        *,
        read_only: bool = True,
        name: str | None = None,
        destructive: bool | None = None,
        runs_user_code: bool = False,
    ) -> Callable[[F], F]:
        """Declare a function as a tool (decorator); the function is returned unchanged."""

        def declare(function: F) -> F:
            tool_name = name or function.__name__
            if tool_name in self._tools:
                raise ValueError(f"tool {tool_name!r} is declared twice")
            doc = inspect.getdoc(function) or ""
            if not doc:
                raise ValueError(f"tool {tool_name!r} has no docstring")
            self._tools[tool_name] = Tool(
                name=tool_name,
                description=doc.strip().splitlines()[0],
                function=function,
                input_schema=schema_of(function),
                read_only=read_only,
                destructive=destructive,
                runs_user_code=runs_user_code,
            )
            return function

        return declare

    def get(self, name: str) -> Tool | None:
        """The tool called `name`, if any."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Every tool name, in declaration order."""
        return list(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def specs(self) -> list[dict[str, Any]]:
        """The tool definitions to send with an Anthropic Messages API request."""
        return [tool.spec() for tool in self]


def schema_of(function: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of a tool's parameters (all but the first, the context).

    Only the parameters' annotations are evaluated: a return type may name a class that the
    tool's module imports lazily (so that listing tools stays cheap).
    """
    annotations = {k: v for k, v in function.__annotations__.items() if k != "return"}
    carrier = types.SimpleNamespace(__annotations__=annotations, __globals__=function.__globals__)
    hints = typing.get_type_hints(carrier, include_extras=True)
    parameters = list(inspect.signature(function).parameters.values())[1:]
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(f"{function.__name__}: *args/**kwargs cannot be a tool parameter")
        hint = hints.get(parameter.name)
        if hint is None:
            raise TypeError(f"{function.__name__}: parameter {parameter.name} has no type")
        description = None
        if typing.get_origin(hint) is Annotated:
            hint, *extras = typing.get_args(hint)
            description = next((e for e in extras if isinstance(e, str)), None)
        schema, optional = _type_schema(hint, f"{function.__name__}.{parameter.name}")
        if optional and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        if description:
            schema["description"] = description
        if parameter.default is not inspect.Parameter.empty:
            if parameter.default is not None:
                schema["default"] = parameter.default
        elif not optional:
            required.append(parameter.name)
        properties[parameter.name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _type_schema(hint: Any, where: str) -> tuple[dict[str, Any], bool]:
    """(schema, accepts None) of one annotation."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{where}: only `X | None` unions are supported")
        return _type_schema(members[0], where)[0], True
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, False
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return {"type": "array", "items": _type_schema(item, where)[0]}, False
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}, False
    raise TypeError(f"{where}: unsupported parameter type {hint!r}")


def check_arguments(schema: Mapping[str, Any], arguments: Mapping[str, object], name: str) -> None:
    """Raise ToolError when `arguments` do not fit `schema` (the subset `schema_of` makes)."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        raise ToolError(
            f"{name}: unknown argument {unknown[0]!r} (expected: {', '.join(properties)})"
        )
    missing = [key for key in schema.get("required", ()) if key not in arguments]
    if missing:
        raise ToolError(f"{name}: missing argument {missing[0]!r}")
    for key, value in arguments.items():
        if not _fits(properties[key], value):
            expected = properties[key].get("type") or properties[key].get("enum")
            raise ToolError(f"{name}: argument {key!r} must be {expected}, got {value!r:.80}")


def _fits(schema: Mapping[str, Any], value: object) -> bool:
    if "enum" in schema:
        return value in schema["enum"]
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return any(_fits({**schema, "type": kind}, value) for kind in kinds)
    return _fits_type(kinds, schema, value)


def _fits_type(kind: object, schema: Mapping[str, Any], value: object) -> bool:
    if kind == "null":
        return value is None
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and all(_fits(schema["items"], v) for v in value)
    return True


def to_data(value: object) -> Any:
    """A tool result as JSON-ready data: dataclasses as dicts (hidden fields left out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.metadata.get(HIDDEN)
        }
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_data(v) for v in value]
    return value
