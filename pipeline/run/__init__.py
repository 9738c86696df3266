"""One run over an input folder as named steps, its record for incremental re-runs, and watching the folder.

The library call: `pipeline.run.reports(input_dir, output_dir, RunOptions(as_of=...)) -> RunReport`.
"""

from pipeline.core.errors import OutputInUse, RunFailed
from pipeline.report import RunOptions, RunReport, WorkbookRun
from pipeline.run.steps import reports

__all__ = ["OutputInUse", "RunFailed", "RunOptions", "RunReport", "WorkbookRun", "reports"]
