"""Reading a clerk's workbook (.xlsx and the old .xls) into raw tables that remember every cell's address."""
