"""交番・駐在所連絡協議会 帳票パイプライン: validate clerks' workbooks and write the 要綱's three forms."""

__version__ = "0.1.0"
