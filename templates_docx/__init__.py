"""The three form templates (別記様式第1～3号), shipped inside the package."""
