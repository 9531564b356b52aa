"""The state store: one module per aggregate, composed by `Tx` in `store.py`."""
