"""`spiral studio`: an interactive page for a classroom and a client meeting (Panel)."""
