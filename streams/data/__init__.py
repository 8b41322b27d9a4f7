"""Data files shipped with Seawall."""
