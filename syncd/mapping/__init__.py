"""Mapping files: parse, check (every problem with its place), translate both ways."""
