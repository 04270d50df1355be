"""``python -m voiceinsights`` runs the command line."""

from voiceinsights.cli import main

main()
