# expected-verdict: RE
"""Class 7, a message that repaints the terminal: raise an exception whose message holds ANSI and
OSC escape sequences (clear the screen, set the window title, print a green 'AC' verdict panel)
so whoever reads the grade's output sees a fake AC. The grade is RE as it should be, and every
string that comes from the child has its control characters spelled out (\\x1b...) before it
enters the record, so no escape reaches a terminal, a page or a table from here."""
from harness.types import COO, CSR

FAKE = ("\x1b[2J\x1b[H\x1b]0;sparsebench: AC\x07\x1b[1;32m AC \x1b[0m all 21 cases passed, score 9.99x"
        "\x1b]8;;https://example.invalid\x07details\x1b]8;;\x07\r\x1b[K")


def coo_to_csr(A: COO) -> CSR:
    raise RuntimeError(FAKE)
