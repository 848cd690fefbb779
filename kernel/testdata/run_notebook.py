"""Executes a small notebook with nbclient and the installed kernel; prints its outputs as JSON.

Usage: JUPYTER_PATH=DIR /usr/bin/python3 run_notebook.py KERNEL_NAME
"""
import json
import sys

import nbformat
from nbclient import NotebookClient

cells = [
    nbformat.v4.new_markdown_cell("# A test notebook"),
    nbformat.v4.new_code_cell('n := 6\nfmt.Println("n =", n)'),
    nbformat.v4.new_code_cell("n * 7"),
    nbformat.v4.new_code_cell('display.HTML("<i>html</i>")'),
]
nb = nbformat.v4.new_notebook(cells=cells)
NotebookClient(nb, kernel_name=sys.argv[1], timeout=30).execute()
nbformat.validate(nb)
print(json.dumps({"cells": [{"cell_type": c.cell_type, "execution_count": c.get("execution_count"),
                             "outputs": c.get("outputs", [])} for c in nb.cells]}))
