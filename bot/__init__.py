"""veribot: phones people and verifies facts by voice."""

__version__ = "0.1.0"
