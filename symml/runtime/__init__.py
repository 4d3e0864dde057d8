"""What the process runs under: deadlines for symbolic steps, worker processes that can be
killed, and the folder where computed results are kept."""
