"""pytest plugin of rlmodules (loaded through the ``pytest11`` entry point)."""
