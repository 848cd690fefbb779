"""jupyter_kernel_test conformance suite for the adjoint kernel.

Usage: JUPYTER_PATH=DIR ADJOINT_KERNEL_NAME=NAME /usr/bin/python3 -m unittest conformance
(run from this directory).
"""
import os
import unittest

import jupyter_kernel_test as jkt


class AdjointKernelTests(jkt.KernelTests):
    kernel_name = os.environ.get("ADJOINT_KERNEL_NAME", "adjoint")
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'fmt.Println("hello, world")'
    code_stderr = 'fmt.Fprintln(os.Stderr, "oops")'
    completion_samples = [{"text": "fmt.Printl", "matches": {"Println"}}]
    complete_code_samples = ["x := 1", "fmt.Println(1)"]
    incomplete_code_samples = ["for {", "func f() {"]
    invalid_code_samples = [")"]
    code_generate_error = 'panic("expected")'
    code_execute_result = [{"code": "6 * 7", "result": "42"}]
    code_display_data = [{"code": 'display.HTML("<b>hi</b>")', "mime": "text/html"}]
    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "fmt.Println"
    code_clear_output = "display.Clear(false)"


if __name__ == "__main__":
    unittest.main()
