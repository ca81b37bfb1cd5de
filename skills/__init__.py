"""perfpilot skills: encoded performance expertise (SKILL.md plus optional transforms)."""
