"""The three forms and their documents: what each prints, the templates, rendering, planning and PDF."""
