"""The examples of README.md and docs/, run as a reader would."""
