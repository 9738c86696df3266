"""The workbooks written for the clerk: the annotated copy (検証結果.xlsx) and the blank input workbook."""
