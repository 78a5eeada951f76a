"""What every simulator shares: fault injection, request statistics, synthesis helpers."""
