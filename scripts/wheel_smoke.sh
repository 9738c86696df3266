#!/usr/bin/env bash
# The clerk's route without make or a checkout: build the wheel, install it into a clean venv outside the
# repository, and from another folder run `kobankyo template`, `check` and `reports --pdf` on a copy of the
# samples. The documents must be byte-identical to what the repository's own run writes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kobankyo-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
as_of=2026-11-27

"$repo/.venv/bin/pip" wheel --quiet --no-deps -w "$work/dist" "$repo"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -c "$repo/constraints.txt" "$work"/dist/*.whl
kobankyo="$work/venv/bin/kobankyo"

mkdir -p "$work/窓口/ブック" "$work/窓口/雛形"
cp "$repo"/input_samples/*.xlsx "$work/窓口/ブック/"
cd "$work/窓口"

"$kobankyo" template 雛形/入力ブック雛形.xlsx
test -s 雛形/入力ブック雛形.xlsx

"$kobankyo" check --input ブック --output 検証 --as-of "$as_of"
test -s 検証/検証結果.json
if find 検証 -name '*.docx' | grep -q .; then echo "check wrote documents" >&2; exit 1; fi

"$kobankyo" reports --input ブック --output 結果 --as-of "$as_of" --pdf
docs=$(find 結果 -name '*.docx' | wc -l)
pdfs=$(find 結果 -name '*.pdf' -not -path '*/印刷用/*' | wc -l)
bundles=$(find 結果 -path '*/印刷用/*.pdf' | wc -l)
echo "wheel: $docs documents, $pdfs PDFs, $bundles print bundles"
test "$docs" -gt 300 && test "$pdfs" -eq "$docs" && test "$bundles" -ge 9

# The same bytes as the repository's own run.
"$repo/.venv/bin/python" -m pipeline reports --input "$repo/input_samples" --output "$work/repo" --as-of "$as_of" >/dev/null
(cd 結果 && find . -name '*.docx' -print0 | sort -z | xargs -0 sha256sum) > "$work/wheel.sha"
(cd "$work/repo" && find . -name '*.docx' -print0 | sort -z | xargs -0 sha256sum) > "$work/repo.sha"
diff -q "$work/wheel.sha" "$work/repo.sha"
echo "wheel: kobankyo from an installed wheel writes the same bytes as the repository"

# The office's templates: exported from the installed package, checked, and used from ブック/様式.
"$kobankyo" forms export ブック/様式
test -s ブック/様式/委嘱状.docx && test -s ブック/様式/差込み項目一覧.html
"$kobankyo" forms check ブック/様式
"$kobankyo" reports --input ブック --output 結果 --as-of "$as_of" > "$work/forms.log"
grep -q "SHA-256" "$work/forms.log"
echo "wheel: forms export, check and a run with the exported 様式 folder"
