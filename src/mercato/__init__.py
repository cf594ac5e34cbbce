"""mercato: a self-hostable AI engine for e-commerce."""

__version__ = "0.1.0"
