"""``python -m classroom_server.cli``: the same command line as ``classroom-server``."""

from classroom_server.cli import main

main()
