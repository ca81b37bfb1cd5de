"""Verification (stage 5): capture real calls, replay them against a fix, time both, judge."""
