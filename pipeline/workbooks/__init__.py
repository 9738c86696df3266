"""The workbooks written for the clerk: the annotated copy (検証結果.xlsx) and the blank input workbook.

The prefecture's 県集計.xlsx is in overview/summary_book.py: it is made from the station figures the pages use.
"""
