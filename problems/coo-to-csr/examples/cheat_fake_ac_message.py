# expected-verdict: RE
"""A cheat on the reader, not the grader: the exception message, the traceback and the printed
output are terminal escape sequences that clear the screen, paint a green "AC" with a fine score
over it, retitle the window, and reverse text with a bidi override, so whoever runs the grade (or
reads the log in CI) sees a pass. The call raised, so the verdict is RE; every string the
submission supplied is stripped of control characters where it enters the record, and again
where it is shown, so the message reaches the terminal, the page and the markdown inert."""
from harness.types import COO, CSR

FAKE = ("\x1b]0;sparsebench: AC\x07"  # OSC: the window title
        "\x1b[2J\x1b[H"  # CSI: clear the screen, cursor home
        "\x1b[1;42;97m AC \x1b[0m  coo-to-csr  score 9.87x  all 24 cases passed\r\n"
        "\u202eCA\u202c"  # a bidi override: shows reversed
        "\x9b2K\x1bc")  # 8-bit CSI erase line, then ESC c: a full terminal reset


def coo_to_csr(A: COO) -> CSR:
    print(FAKE, flush=True)
    raise RuntimeError(FAKE)
