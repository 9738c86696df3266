"""Office Open XML knowledge only: reproducible zips, the .xlsx part editor and cleaner; nothing of councils or forms."""
