"""Mapping files: parse, check, translate both ways, and their stored versions."""
