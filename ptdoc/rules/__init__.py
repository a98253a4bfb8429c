"""The documentation-gap rules: import this package to have every rule registered."""

from ptdoc.rule_context import CodeSet, RuleContext
from ptdoc.rules import coding, documentation, episode  # noqa: F401  (registration)
from ptdoc.rules.engine import REGISTRY, Finding, Severity, evaluate, rule

__all__ = ["REGISTRY", "CodeSet", "Finding", "RuleContext", "Severity", "evaluate", "rule"]
