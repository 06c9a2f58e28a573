"""Runs moto's server on 127.0.0.1:PORT and exits when the process that started it dies.

Used by the integration tests, which start one emulator per test process: nothing is left
running when the tests end, however they end.
"""
import os
import sys
import threading
import time


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> int:
    port = sys.argv[1]
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    from moto.server import main as moto_main

    return moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    sys.exit(main())
