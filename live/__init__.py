"""live: KS's idea competition, from the call for ideas to the winners locked in on stage."""

__version__ = "0.1.0"
