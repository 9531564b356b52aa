"""Rollups: the consolidated producer sheet's content, layout, flush policy and terminal view.

- `model`: the input (`RollupInput`) and output (`RollupSet` of tabs of `RollupTable`s).
- `definitions`: what open, done, overdue, hours and money mean, once for every rollup.
- `milestones`, `load`, `pipeline`, `budget`, `health`, `summary`: one rollup each (pure).
- `compute`: every rollup from one input.
- `source`: read the input from the store (the only I/O of computation).
- `sheet_format`, `layout`: a `RollupSet` as one `spreadsheets.batchUpdate` (pure).
- `state`, `flush`: when to write, and only what changed (`RollupPublisher`).
- `terminal`: `print_rollups` for `syncd rollup --print`.

See docs/rollups.md for every tab, column and configuration key.
"""
