"""MCP001 has no per-language checker: the engine reports it from what the other rules found."""

from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP001",
    name="unused-suppression",
    summary="A suppression comment that silences nothing",
    severity=Severity.WARNING,
    fix=FixAvailability.ALWAYS,
    triggers={"python": (b"mcp-migrate:",), "typescript": (b"mcp-migrate:",)},
    docs="""
## What it does
Finds `# mcp-migrate: ignore[...]` comments that no longer silence anything: the code they name
is not reported on their line (or, for a comment alone on its line, the next one), or names no
rule at all. Only rules that ran are judged: a suppression for a rule left out with `--select`
or `--ignore` is not reported, and a bare `ignore` only when every rule ran.

## Why
A stale suppression hides the next real finding on that line. Once a server is migrated, its
suppressions should go with the sessions they excused.

## Example
```python
mcp = FastMCP("billing", stateless_http=True)  # mcp-migrate: ignore[MCP101]
```
Use instead:
```python
mcp = FastMCP("billing", stateless_http=True)
```

## Fix safety
Safe: the comment is removed (its whole line when it stands alone), or, when some of its codes
are still used, only the unused codes are dropped from the list. A comment that carries other
text besides the directive is reported but left for you to edit.
""",
)
