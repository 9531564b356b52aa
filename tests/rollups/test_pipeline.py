"""The pipeline matrix and status counts on small hand-made inputs."""

from __future__ import annotations

from syncd.rollups.model import FieldFlag
from syncd.rollups.pipeline import matrix, pipeline_tab, status_counts, step_order
from tests.rollups.build import asset, data, rows, settings, task

STEPS = settings(pipeline_steps=["Model", "Rig"])


def test_no_assets_no_rows():
    assert matrix(data(), STEPS, step_order(data(), STEPS)) == []
    assert status_counts(data(), STEPS) == {}


def test_cells_are_the_status_of_the_assets_task_for_the_step():
    tasks = (
        task(1, linked_asset="chr_mira", step="Model", pipeline_status="final", status="done"),
        task(2, linked_asset="chr_mira", step="Rig", pipeline_status="in_progress"),
        task(3, linked_asset="chr_mira", step="Texture", pipeline_status="waiting"),
        task(4, linked_asset="prp_oar", step="Model", pipeline_status="review"),
        task(5, linked_asset="prp_oar", step="Model", pipeline_status="on_hold"),  # least advanced
        task(6, linked_asset="prp_oar", pipeline_status="final"),  # no step (Jira-only): ignored
    )
    assets = (
        asset("chr_mira", asset_type="Character", pipeline_status="in_progress"),
        asset("prp_oar", asset_type="Prop", pipeline_status="on_hold",
              step_statuses={"Rig": "approved", "Model": "final"}),
    )  # fmt: skip
    input_data = data(tasks=tasks, assets=assets)
    steps = step_order(input_data, STEPS)
    assert steps == ["Model", "Rig", "Texture"]  # configured first, then found
    table = pipeline_tab(matrix(input_data, STEPS, steps), steps, {}).tables[1]
    assert rows(table) == [
        {"asset": "chr_mira", "type": "Character", "status": "in progress",
         "step:Model": "final", "step:Rig": "in progress", "step:Texture": "waiting"},
        {"asset": "prp_oar", "type": "Prop", "status": "on hold",
         "step:Model": "on hold", "step:Rig": "approved", "step:Texture": None},
    ]  # fmt: skip


def test_unmapped_statuses_show_the_tools_value_and_tasks_without_asset_records_get_a_row():
    flag = FieldFlag("shotgrid", "pipeline_status", "cbb", "'cbb' is not in the table", True)
    tasks = (task(1, linked_asset="SQ010_SH0010", step="Layout", flags=(flag,)),)
    input_data = data(tasks=tasks)
    [row] = matrix(input_data, STEPS, step_order(input_data, STEPS))
    assert row.asset_type == "(no asset record)" and row.status == ""
    assert row.steps == {"Layout": "unmapped: cbb"}


def test_asset_type_filter_and_counts_per_status():
    assets = (
        asset("a", asset_type="Prop", pipeline_status="final"),
        asset("b", asset_type="Prop", pipeline_status="final"),
        asset("c", asset_type="Prop"),  # unreadable
        asset("d", asset_type="shot", pipeline_status="waiting"),
        asset("e", pipeline_status="ready"),
    )
    counts = status_counts(data(assets=assets), settings())
    assert {k: dict(v) for k, v in counts.items()} == {
        "Prop": {"final": 2, "unknown": 1},
        "shot": {"waiting": 1},
        "(no type)": {"ready": 1},
    }
    table = pipeline_tab([], [], counts).tables[0]
    prop = next(r for r in rows(table) if r["type"] == "Prop")
    assert (prop["assets"], prop["final"], prop["unknown"], prop["waiting"]) == (3, 2, 1, 0)
    only = settings(asset_types=["shot"])
    assert list(status_counts(data(assets=assets), only)) == ["shot"]
    assert [r.name for r in matrix(data(assets=assets), only, [])] == ["d"]
    assert table.chart is not None and table.chart.stacked
