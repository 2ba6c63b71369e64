"""MCP101 for Python: session-enabled Streamable HTTP in the mcp and fastmcp SDKs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from ...lang.python import (
    PythonModule,
    argument,
    bool_value,
    edit_arguments,
    keyword,
    replace_string,
    string_value,
)
from ...model import Diagnostic, Edit, Fix, FixSafety
from ...sdk import python_project
from ...sdk.python import (
    Mode,
    SessionConfig,
    argparse_option,
    session_configs,
    session_only_arguments,
    settings_flag_writes,
)
from ...sdk.python_versions import FLAG_ACCEPTED_ON, describe_lines

CODE = "MCP101"


def check(module: PythonModule) -> Iterator[Diagnostic]:
    seen_writes: set[int] = set()
    for config in session_configs(module):
        if config.server is not None:
            seen_writes.update(id(w) for w in config.server.settings_writes)
        if not config.serves_http:
            continue
        if config.mode is Mode.STATEFUL:
            yield _stateful(module, config)
        elif config.mode is Mode.CONFIGURABLE and config.flag_value is not None:
            found = _configurable(module, config, config.flag_value)
            if found is not None:
                yield found
    yield from _defaults_used_elsewhere(module)
    yield from _arguments_passed_on_elsewhere(module)
    if module.imports_any(("mcp", "fastmcp")):
        for assign in settings_flag_writes(module):
            if bool_value(assign.value) is False:
                yield Diagnostic(
                    CODE,
                    module.span(assign),
                    "`settings.stateless_http = False` turns protocol sessions on: every client is "
                    "pinned to the replica that minted its session",
                    Fix(
                        FixSafety.SAFE,
                        "Set `settings.stateless_http = True`",
                        (_replace(module, assign.value, "True"),),
                    ),
                )


def _stateful(module: PythonModule, config: SessionConfig) -> Diagnostic:
    call = config.call
    cleanup = session_only_arguments(call)
    flag = f"{config.flag}=True"
    if config.flag_arg is None:
        edits = edit_arguments(module, call, remove=cleanup, append=[flag])
        how = "is not set"
    else:
        index = list(call.args).index(config.flag_arg)
        edits = edit_arguments(module, call, remove=cleanup, replace={index: "True"})
        how = "is False"
    description = f"Set `{flag}`"
    if cleanup:
        removed = ", ".join(f"`{a.keyword.value}`" for a in cleanup if a.keyword is not None)
        description += f" and remove {removed} (session-only settings)"
    safety, caveat = _safety(config)
    message = (
        f"{config.label} serves Streamable HTTP with protocol sessions (`{config.flag}` {how}): "
        "every client is pinned to the replica that holds its session"
    )
    if not config.placed:
        return Diagnostic(CODE, module.span(call), message + _unplaced(config))
    return Diagnostic(CODE, module.span(call), message, Fix(safety, description + caveat, tuple(edits)))


def _defaults_used_elsewhere(module: PythonModule) -> Iterator[Diagnostic]:
    """A module-level value other modules pass as `stateless_http=` / `stateless=`, reported
    where its stateful default is (that is where a fix goes), naming the modules that use it."""
    project = python_project.current()
    if project is None or module.path is None:
        return
    uses = project.flags_defined_in(os.path.abspath(module.path))
    for key in [key for key in uses if "." in key]:
        instance, _, field_name = key.partition(".")
        found = _instance_field_default(module, instance, field_name)
        if found is not None:
            yield _default_finding(module, found[0], key, found[1], uses[key])
    for key in [key for key in uses if ":" in key]:  # a settings class whose instance is built elsewhere
        class_name, _, field_name = key.partition(":")
        field = _class_field(module, class_name, field_name)
        if field is not None:
            yield _default_finding(module, field[0], f"{class_name}.{field_name}", field[1], uses[key])
    for statement in module.tree.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None:
                continue
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            names = [t.value for t in targets if isinstance(t, cst.Name) and t.value in uses]
            if not names:
                continue
            default = flag_default_off(module, small.value)
            if default is None and bool_value(small.value) is False:
                default = FlagDefault(f"`{names[0]}`", [_replace(module, small.value, "True")])
            if default is None:
                continue
            yield _default_finding(module, small.value, names[0], default, uses[names[0]])


def _default_finding(
    module: PythonModule, node: cst.CSTNode, name: str, default: FlagDefault, uses: list[tuple[str, int]]
) -> Diagnostic:
    assert module.path is not None
    where = ", ".join(
        f"{os.path.relpath(path, os.path.dirname(os.path.abspath(module.path)))}:{line}" for path, line in uses[:3]
    )
    message = (
        f"`{name}` is passed as the session flag of an MCP server ({where}) and keeps protocol sessions "
        f"unless {default.source} is set: stateless must be the default for a multi-replica deployment"
    )
    return Diagnostic(CODE, module.span(node), message, default.fix())


def _arguments_passed_on_elsewhere(module: PythonModule) -> Iterator[Diagnostic]:
    """`serve(port, stateless)` where another module's `serve` passes that parameter on as the
    session flag: the default is decided here (a click/typer option, a parameter, a setting)."""
    project = python_project.current()
    if project is None or module.path is None:
        return
    wanted = {(a.line, a.name): a for a in project.flag_arguments_in(os.path.abspath(module.path))}
    if not wanted:
        return
    for call in module.walk(cst.Call):
        line = module.span(call).line
        for arg in call.args:
            value = arg.value
            if not isinstance(value, cst.Name) or (found := wanted.get((line, value.value))) is None:
                continue
            default = flag_default_off(module, value)
            if default is None:
                continue
            target = os.path.relpath(found.target, os.path.dirname(os.path.abspath(module.path)))
            message = (
                f"`{value.value}` is passed to `{found.function}()` ({target}), which serves an MCP server with it "
                f"as the session flag (`{found.parameter}`): sessions stay on unless {default.source} is set; "
                "stateless must be the default for a multi-replica deployment"
            )
            yield Diagnostic(CODE, module.span(value), message, default.fix())


def _unplaced(config: SessionConfig) -> str:
    """Why no fix is offered: the releases the server may run on disagree on the spelling."""
    assert config.server is not None
    candidates = config.server.candidates
    if candidates.pinned_out:
        return (
            "; no fix: the project's pins admit no release that provides this import, so the "
            "version it runs on is unknown; set `stateless_http=True` where that version takes it"
        )
    method = f"`{config.serve.method}()`" if config.serve is not None else "the serving call"
    on_ctor = describe_lines([line for line in candidates.lines if line.ctor_flag])
    on_call = describe_lines([line for line in candidates.lines if not line.ctor_flag])
    return (
        f"; no fix: {on_ctor} take `stateless_http=True` on the constructor, {on_call or 'the others'} "
        f"on {method} and reject it on the constructor: pin or lock the SDK, then run fix again"
    )


def _safety(config: SessionConfig) -> tuple[FixSafety, str]:
    """A flag on a serving call whose transport is chosen at run time may reach a transport
    that rejects it (mcp v2 `sse`, fastmcp `stdio`/`sse`)."""
    serve, server = config.serve, config.server
    if serve is None or server is None:
        return FixSafety.SAFE, ""
    accepted = FLAG_ACCEPTED_ON[server.sdk]
    if serve.transports is not None and serve.transports <= accepted:
        return FixSafety.SAFE, ""
    if serve.transports is None:
        return FixSafety.UNSAFE, " (the transport is chosen at run time: check the other choices accept it)"
    rejected = ", ".join(sorted(serve.transports - accepted))
    return FixSafety.UNSAFE, f" (the transport can also be {rejected}, which rejects the keyword)"


def _configurable(module: PythonModule, config: SessionConfig, value: cst.BaseExpression) -> Diagnostic | None:
    default = flag_default_off(module, value)
    if default is None:
        return None
    message = (
        f"{config.label} keeps protocol sessions unless {default.source} is set: "
        "stateless must be the default for a multi-replica deployment"
    )
    return Diagnostic(CODE, module.span(config.flag_arg or value), message, default.fix())


@dataclass
class FlagDefault:
    """A user-facing switch for statelessness that is off unless someone turns it on."""

    source: str
    edits: list[Edit]

    def fix(self) -> Fix | None:
        """Flipping the default is unsafe: whoever relied on sessions by default loses them."""
        if not self.edits:
            return None
        return Fix(FixSafety.UNSAFE, f"Make stateless the default of {self.source}", tuple(self.edits))


_ENV_READERS = frozenset({"os.getenv", "os.environ.get"})


def flag_default_off(module: PythonModule, expr: cst.BaseExpression, depth: int = 0) -> FlagDefault | None:
    """When `expr` is a flag whose default is False: where the default lives and how to flip it.

    Understands argparse options (`default=False`, `action="store_true"`) and environment
    variables compared against literals (`os.getenv("X", "false").lower() == "true"`),
    directly or through a name bound once. Anything else is unknown (None): not reported.
    """
    if depth > 4:
        return None
    if isinstance(expr, cst.Name):
        value = module.default_value(expr)  # `x = default` then `if option: x = other`
        if value is not None:
            return flag_default_off(module, value, depth + 1)
        param = module.parameter_of(expr)
        return None if param is None else _parameter_default(module, param)
    if isinstance(expr, cst.Attribute):
        option = argparse_option(module, expr)
        if option is not None:
            return _argparse_default(module, option)
        return _field_default(module, expr)
    if isinstance(expr, cst.Comparison):
        return _env_default(module, expr)
    if isinstance(expr, cst.Call):
        return _env_helper_default(module, expr)
    return None


def _parameter_default(module: PythonModule, param: cst.Param) -> FlagDefault | None:
    """`def serve(stateless: bool = False)`, `stateless: bool = typer.Option(False, ...)`, or a
    `@click.option("--stateless", is_flag=True)` on the function: the default is where it flips."""
    name = param.name.value
    function = module.parent(module.parent(param) or param)
    where = f"`{name}` of `{function.name.value}()`" if isinstance(function, cst.FunctionDef) else f"`{name}`"
    default = param.default
    if isinstance(default, cst.Call) and default.args and default.args[0].keyword is None:
        default = default.args[0].value  # typer.Option(False, "--stateless")
    if default is not None and bool_value(default) is False:
        return FlagDefault(f"the parameter {where}", [_replace(module, default, "True")])
    if default is not None and not (isinstance(default, cst.Name) and default.value == "None"):
        return None
    if isinstance(function, cst.FunctionDef):
        for decorator in function.decorators:
            option = decorator.decorator
            if not (isinstance(option, cst.Call) and module.source(option.func).endswith("option")):
                continue
            flags = [string_value(a.value) or "" for a in option.args if a.keyword is None]
            if not any(f.lstrip("-").replace("-", "_").split("/")[0] == name for f in flags):
                continue
            given = keyword(option, "default")
            is_flag = keyword(option, "is_flag")
            off = (given is not None and bool_value(given.value) is False) or (
                given is None and is_flag is not None and bool_value(is_flag.value) is True
            )
            if not off:
                return None
            # Flipped, `--stateless` alone could never be turned off: only `--x/--no-x` flips.
            switchable = any("/" in f for f in flags)
            edits: list[Edit] = []
            if switchable:
                edits = (
                    [_replace(module, given.value, "True")]
                    if given is not None
                    else edit_arguments(module, option, append=["default=True"])
                )
            return FlagDefault(f"the `{flags[0]}` option", edits)
    return None


def _field_default(module: PythonModule, expr: cst.Attribute) -> FlagDefault | None:
    """`settings.stateless` where `settings = Settings()` and the class (a dataclass, a
    pydantic model or settings) declares `stateless: bool = False` (or `Field(False)`)."""
    if not isinstance(expr.value, cst.Name):
        return None
    instance = module.default_value(expr.value)
    if not isinstance(instance, cst.Call):
        return None
    return _class_field_default(module, instance, expr.attr.value)


def _instance_field_default(
    module: PythonModule, instance: str, field_name: str
) -> tuple[cst.CSTNode, FlagDefault] | None:
    """For another module's `stateless=settings.stateless`: the module-level `settings = Settings()`
    here, and its class's stateful default."""
    for statement in module.tree.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if (
                isinstance(small, cst.Assign)
                and isinstance(small.value, cst.Call)
                and any(isinstance(t.target, cst.Name) and t.target.value == instance for t in small.targets)
            ):
                default = _class_field_default(module, small.value, field_name)
                return (small.value, default) if default is not None else None
    return None


def _class_field_default(module: PythonModule, instance: cst.Call, field_name: str) -> FlagDefault | None:
    if not isinstance(instance.func, cst.Name):
        return None
    if any(a.keyword is not None and a.keyword.value == field_name for a in instance.args):
        return None  # set where the instance is built
    found = _class_field(module, instance.func.value, field_name)
    return found[1] if found is not None else None


def _class_field(module: PythonModule, class_name: str, field_name: str) -> tuple[cst.CSTNode, FlagDefault] | None:
    """A class of this module (a dataclass, a pydantic model or settings) declaring the field
    `stateless: bool = False` (or `Field(False)`): the default's node, and how to flip it."""
    for cls in module.walk(cst.ClassDef):
        if cls.name.value != class_name:
            continue
        for statement in cls.body.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
                    continue
                if small.target.value != field_name or small.value is None:
                    continue
                value = small.value
                if isinstance(value, cst.Call) and module.source(value.func).endswith("Field"):
                    given = argument(value, "default", 0)
                    value = given.value if given is not None else value
                if bool_value(value) is False:
                    return value, FlagDefault(
                        f"the `{cls.name.value}.{field_name}` setting", [_replace(module, value, "True")]
                    )
    return None


_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*$")


def _env_helper_default(module: PythonModule, call: cst.Call) -> FlagDefault | None:
    """A project's own reader of a boolean environment variable: `get_env_bool("X", False)`,
    `is_env_truthy("X", "false")`, `env.bool("X", default=False)`: an upper-case variable name
    first, then a default that is False or a false string."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    variable = string_value(positional[0].value) if positional else None
    if variable is None or not _ENV_NAME.match(variable):
        return None
    default = keyword(call, "default") or (positional[1] if len(positional) > 1 else None)
    if default is None:
        return None
    reader = module.source(call.func)
    source = f"the `{variable}` environment variable (read by `{reader}`)"
    if bool_value(default.value) is False:
        return FlagDefault(source, [_replace(module, default.value, "True")])
    text = string_value(default.value)
    if text is not None and text.strip().lower() in _FALSE_STRINGS:
        return FlagDefault(source, [replace_string(module, default.value, "true")])
    return None


_FALSE_STRINGS = frozenset({"false", "0", "no", "off", ""})


def _argparse_default(module: PythonModule, option: cst.Call) -> FlagDefault | None:
    flags = [string_value(a.value) for a in option.args if a.keyword is None]
    source = f"the `{flags[0]}` option" if flags and flags[0] else "the option"
    default = keyword(option, "default")
    if default is not None:
        if bool_value(default.value) is False:
            return FlagDefault(source, [_replace(module, default.value, "True")])
        return None
    action = keyword(option, "action")
    if action is None or string_value(action.value) != "store_true":
        return None
    edits: list[Edit] = []
    if _binds_module(module, "argparse"):  # --stateless keeps working; --no-stateless opts out
        index = list(option.args).index(action)
        edits = edit_arguments(
            module, option, replace={index: "argparse.BooleanOptionalAction"}, append=["default=True"]
        )
    return FlagDefault(source, edits)


def _binds_module(module: PythonModule, name: str) -> bool:
    """`import argparse` (not `from argparse import ...`) makes `argparse.X` usable."""
    return any(
        isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
        for node in module.walk(cst.Import)
        for alias in node.names
    )


def _env_default(module: PythonModule, comparison: cst.Comparison) -> FlagDefault | None:
    if len(comparison.comparisons) != 1:
        return None
    target = comparison.comparisons[0]
    reader = next(
        (call for call in _calls_in(comparison.left) if module.resolves_to(call.func, _ENV_READERS)),
        None,
    )
    if reader is None:
        return None
    variable = string_value(reader.args[0].value) if reader.args else None
    if variable is None:
        return None
    literals = _string_set(target.comparator)
    if literals is None:
        return None
    default_arg = argument(reader, "default", 1)
    if default_arg is not None and string_value(default_arg.value) is None:
        return None
    default = string_value(default_arg.value) if default_arg else None
    lowered = any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value in ("lower", "casefold")
        for c in _calls_in(comparison.left)
    )
    probe = default.lower() if (lowered and default is not None) else default
    negated = isinstance(target.operator, (cst.NotEqual, cst.NotIn))
    if not isinstance(target.operator, (cst.Equal, cst.NotEqual, cst.In, cst.NotIn)):
        return None
    on = (probe in literals) != negated
    if on:
        return None
    if negated:
        choices = [c for c in ("true", "1", "yes") if c not in literals]
        if not choices:
            return FlagDefault(f"the `{variable}` environment variable", [])
        new = choices[0]
    else:
        options = _ordered_strings(target.comparator)
        new = "true" if "true" in options else options[0]
    source = f"the `{variable}` environment variable"
    if default_arg is not None:
        return FlagDefault(source, [replace_string(module, default_arg.value, new)])
    return FlagDefault(source, edit_arguments(module, reader, append=[repr(new).replace("'", '"')]))


def _calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        stack.extend(current.children)


def _ordered_strings(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [v for el in node.elements if (v := string_value(el.value)) is not None]
    value = string_value(node)
    return [value] if value is not None else []


def _string_set(node: cst.BaseExpression) -> set[str] | None:
    values = _ordered_strings(node)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)) and len(values) != len(node.elements):
        return None
    return set(values) or None


def _replace(module: PythonModule, node: cst.CSTNode, text: str) -> Edit:
    return Edit(module.start(node), module.end(node), text)
