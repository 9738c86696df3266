"""Checking a workbook: column schemas, the 要綱 rules, and the validated model with its findings."""
