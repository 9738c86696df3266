"""Runtime files shipped inside the package (fontconfig alias for the PDF step)."""
