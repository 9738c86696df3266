"""The overview pages: Jinja2 templates (autoescape on) and style.css, shipped inside the package."""
