"""Hoax reports: claim normalisation, text and photo matching against known cases."""
