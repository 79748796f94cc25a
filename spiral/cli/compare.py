"""`spiral compare`: the baseline and what-ifs over replications, with intervals."""

from __future__ import annotations

import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from spiral.cli.common import (
    HorizonOption,
    LimitOption,
    PlotOption,
    ScenarioArgument,
    SeedOption,
    XlsxOption,
    app,
    arms_from,
    check_seed,
    check_xlsx,
    commit,
    err_console,
    fail,
    guard,
    limits_from,
    load_for,
    out_console,
    percent,
    results_places,
    spreadsheet,
    writing,
)
from spiral.scenarios import DEFAULT_SCENARIO


@app.command("compare")
def compare_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    what_if: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if",
            help="A what-if of the scenario: NAME, A+B (together), NAME@10% (a pilot), or a "
            "YAML mapping with a name and changes. Repeatable; default: all of them.",
        ),
    ] = None,
    replications: Annotated[
        str, typer.Option(help="Replications per arm, or 'auto' (until the CIs are tight).")
    ] = "10",
    seed: SeedOption = None,
    pilot: Annotated[
        str | None,
        typer.Option(help="Also run each what-if as a pilot for this share, e.g. '10%'."),
    ] = None,
    target: Annotated[
        str, typer.Option(help="With --replications auto: half-width target, share of the mean.")
    ] = "5%",
    max_replications: Annotated[
        int, typer.Option(help="With --replications auto: never more than this.")
    ] = 50,
    crn: Annotated[
        bool, typer.Option(help="Common random numbers: every arm replays the same luck.")
    ] = True,
    horizon: HorizonOption = None,
    jobs: Annotated[
        int, typer.Option(help="Run replications in this many processes (same results).")
    ] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Write compare.csv/.parquet, runs.csv and compare.png.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tidy table as JSON.")] = False,
    plot: PlotOption = None,
    xlsx: XlsxOption = None,
    limit: LimitOption = None,
) -> None:
    """Compare the baseline with what-ifs over replications, with 95% confidence intervals."""
    from spiral.analysis.compare import compare
    from spiral.cli.feedback import feedback
    from spiral.io.result_files import write_comparison
    from spiral.model.loading import resolve_source
    from spiral.model.what_if_arms import Arm
    from spiral.views.console import print_comparison

    where = "spiral compare"
    limits = limits_from(limit, where)
    check_xlsx(where, xlsx)
    model = load_for(scenario, horizon, where)
    check_seed(seed, where)
    reps: int | str = replications
    if replications != "auto":
        if not (replications.isascii() and replications.isdecimal()) or int(replications) < 2:
            raise fail(
                [
                    f"{where}: --replications: expected 'auto' or a whole number >= 2, "
                    f"got {replications!r}"
                ]
            )
        reps = int(replications)
    share = percent(target, f"{where}: --target")
    if share <= 0:
        raise fail([f"{where}: --target: expected a share above 0%, got {target!r}"])
    if jobs < 1:
        raise fail([f"{where}: --jobs: expected at least 1, got {jobs}"])
    if max_replications < 2:
        raise fail([f"{where}: --max-replications: expected at least 2, got {max_replications}"])
    arms_count = 1 + len(what_if or model.what_ifs) * (2 if pilot else 1)
    planned = (reps if isinstance(reps, int) else max_replications) * arms_count
    if planned > limits.runs:
        from spiral.model.limits import figure, suggest

        option = "--replications" if isinstance(reps, int) else "--max-replications"
        count = reps if isinstance(reps, int) else max_replications
        raise fail(
            [
                f"{where}: {option}: {figure(planned)} runs ({count} replications × "
                f"{arms_count} arms), above the limit of {figure(limits.runs)}; expected fewer, "
                f"or raise the limit with --limit runs={suggest(planned)}"
            ]
        )
    model, parsed = arms_from(model, what_if or list(model.what_ifs))
    if not parsed:
        raise fail(
            [
                f"{scenario}: what_ifs: none declared; expected what-ifs in the file "
                "or --what-if '{name: ..., changes: [...]}'"
            ]
        )
    if pilot is not None:
        pilot_share = percent(pilot, f"{where}: --pilot")
        from spiral.model.what_if_arms import staff_changes

        def pilotable(arm: Arm) -> bool:
            return "@" not in arm.label and not any(
                staff_changes(w, model) for _, w in arm.what_ifs
            )

        skipped = [a.label for a in parsed if "@" not in a.label and not pilotable(a)]
        if skipped:
            err_console.print(
                f"--pilot: no pilot of {', '.join(skipped)} (staff changes reach everyone)",
                highlight=False,
            )
        pilots = [f"{a.label}@{100 * pilot_share:g}%" for a in parsed if pilotable(a)]
        model, more = arms_from(model, pilots)
        parsed += [a for a in more if a.label not in {p.label for p in parsed}]
    from spiral.analysis.parallel import WorkersFailed
    from spiral.io.result_files import COMPARE_NAMES, strict_json

    runs = (reps if isinstance(reps, int) else max_replications) * len(parsed) + len(parsed)
    guard(model, limits, str(resolve_source(scenario)), parallel=min(jobs, runs))
    from spiral.views.pictures import COMPARISON_FIGURES

    stack = ExitStack()
    with stack:
        folder, plots = results_places(
            stack, out, plot, "compare_manifest.json", COMPARE_NAMES, COMPARISON_FIGURES
        )
        sheet = spreadsheet(stack, xlsx)
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("replications")

            def progress(done: int, total: int) -> None:
                shown.step(f"replications {done} of {total}", done / total)

            try:
                result = compare(
                    model,
                    parsed,
                    replications=reps,
                    seed=seed,
                    crn=crn,
                    target=share,
                    max_replications=max_replications,
                    jobs=jobs,
                    progress=progress,
                )
            except WorkersFailed as error:
                err_console.print(f"{where}: --jobs: {error}", highlight=False, soft_wrap=True)
                raise typer.Exit(code=1) from None
        if as_json:
            from spiral.analysis.decision import (
                arm_regimes,
                ranking,
                recommendation,
                regime_warnings,
            )
            from spiral.analysis.pilot import pilot_question

            decided = {
                "table": result.table.to_dict(orient="records"),
                "regimes": arm_regimes(result).to_dict(orient="records"),
                "ranking": ranking(result).to_dict(orient="records"),
                "warnings": regime_warnings(result),
                "recommendation": recommendation(result, model.money.currency),
                "pilots": pilot_question(result, model).to_dict(orient="records"),
            }
            print(strict_json(decided))
        else:
            print_comparison(result, model, out_console)
        with feedback(err_console, where, enabled=not as_json) as shown:
            with writing(out, "--out"):
                if folder is not None:
                    from spiral.views.comparison_charts import comparison_chart

                    shown.step("writing results")
                    folder.stage.mkdir(parents=True, exist_ok=True)
                    chart = comparison_chart(
                        result, folder.stage / "compare.png", model.money.currency
                    )
                    command = shlex.join(["spiral", *sys.argv[1:]])
                    written = [chart] + write_comparison(
                        result, model, folder.stage, command, str(resolve_source(scenario))
                    )
            with writing(plot, "--plot"):
                if plot is not None:
                    from spiral.views.pictures import comparison_figures

                    shown.step("drawing")
                    plots.mkdir(parents=True, exist_ok=True)
                    drawn = comparison_figures(result, plots, model.money.currency, model.name)
            with writing(xlsx, "--xlsx"):
                if sheet is not None:
                    from spiral.io.spreadsheet import comparison_sheets, write_xlsx

                    shown.step("writing the spreadsheet")
                    write_xlsx(comparison_sheets(result, model), sheet)
            shown.step("saving")
            commit(stack)
    if not as_json:
        if out is not None:
            out_console.print(f"wrote {len(written)} files to {out}/", highlight=False)
        if plot is not None:
            out_console.print(f"drew {len(drawn)} pictures in {plot}/", highlight=False)
        if xlsx is not None:
            out_console.print(f"wrote the tables to {xlsx}", highlight=False)
