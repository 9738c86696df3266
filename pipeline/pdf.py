"""PDF export placeholder (filled in by the clerk-workflow work)."""
