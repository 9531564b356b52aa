"""The work queue: a small port (`JobQueue`) and its embedded adapter in the store."""
