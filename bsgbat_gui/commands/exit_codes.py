"""The exit statuses every headless command uses."""

EXIT_OK = 0
EXIT_FAILED = 1  # something failed; for analyze/export: some files failed, the rest was done
EXIT_SOME_FAILED = EXIT_FAILED
EXIT_USAGE = 2  # bad arguments, nothing to do, or a model set / store that cannot be used
EXIT_INTERRUPTED = 130  # Ctrl+C
