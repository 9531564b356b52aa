"""The store: SQLAlchemy tables, migrations, and queries by aggregate."""
