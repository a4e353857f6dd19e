"""`python -m consumer.dlq_ops inspect|replay ...` — the `dlq` commands without the main CLI."""

import sys

from consumer.dlq_ops.cli import standalone

sys.exit(standalone(["dlq", *sys.argv[1:]]))
