"""The validation pipeline: every proposed edit passes these stages before a person sees it."""

from perfpilot.tools.validate.pipeline import Validation, validate_edit

__all__ = ["Validation", "validate_edit"]
