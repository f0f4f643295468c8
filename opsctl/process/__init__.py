"""How the opsctl process meets its operating system: signals."""
