"""Files in and out: result folders written whole, event logs, scenarios fitted from logs."""
