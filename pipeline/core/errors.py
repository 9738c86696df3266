"""Exceptions that stop a whole run (exit code 2), importable without the heavy rendering libraries."""


class TemplateProblem(Exception):
    """A template that cannot be used; stops the run (it is not bad input)."""


class InstallationProblem(Exception):
    """A dependency installed in a version the program cannot use; stops the run (it is not bad input)."""


def missing_module(e: ImportError) -> InstallationProblem:
    """A library the run needs cannot be imported as installed (absent, or another release's layout)."""
    return InstallationProblem(
        f"インストールに問題があります: {e.name or 'ライブラリ'} を読み込めません（{e}）。入力ブックの問題ではありません。"
        "pip install -c constraints.txt . で、対応する版を入れ直してください。"
    )


class RunFailed(Exception):
    """The run itself cannot proceed (no input folder, output not writable): exit code 2, not a finding."""


class OutputInUse(RunFailed):
    """Another run holds the output folder: trying again later may succeed (watch does)."""
