"""The studio's page (Panel): controls, the numbers, side by side, go, one customer, save.

One ``Studio`` per browser session. Simulations run in a worker thread, one job at a
time per session: moving a slider cancels the job under way (between customers) and
starts a new one; its results reach the page through Bokeh's next-tick callback, the
one thread-safe way into a document.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import panel as pn

from spiral.model.errors import ScenarioError, safe_text
from spiral.studio.clip import clip
from spiral.studio.computation import Cancelled, Side, compute, engine_for
from spiral.studio.live import LiveRun
from spiral.studio.panes import (
    PAGE_CSS,
    PANE_CSS,
    comparison_html,
    numbers_html,
    problems_html,
    regime_html,
    stories_html,
)
from spiral.studio.settings import Knobs, Setting, apply_knobs, command_lines, knobs_of
from spiral.studio.sources import Source, from_upload
from spiral.studio.stories import two_stories
from spiral.studio.workers import Job, background, stopping
from spiral.views.journey_map import journey_map
from spiral.views.live_chart import live_chart
from spiral.views.spiral_curve import spiral_curve
from spiral.views.style import png_bytes

FULL_SCREEN_JS = """
if (document.fullscreenElement) { document.exitFullscreen(); }
else { document.documentElement.requestFullscreen(); }
"""
PRESENTER_JS = "document.body.classList.toggle('presenter');"
COPY_JS = "navigator.clipboard && navigator.clipboard.writeText(source.value);"

REPLICATIONS = 3
SPEEDS = {"1 hour": 60.0, "6 hours": 360.0, "1 day": 1440.0, "3 days": 4320.0}
"""Simulated time per tick of "go" (a tick every half second)."""
TICK_MS = 500
REDRAW_AFTER = 0.3
"""Seconds: a replication that lands sooner after the last drawing is not drawn by itself."""


class Studio:
    """The page for one browser session."""

    def __init__(self, sources: dict[str, Source], first: str, seed: int | None = None) -> None:
        self.sources = sources
        self.source = sources[first]
        self.setting = Setting(self.source.data, self.source.scenario)
        self.job: Job | None = None
        self._loading = False
        self.live: LiveRun | None = None
        self.playing: object | None = None
        self.doc = pn.state.curdoc
        self._build(first, seed)
        self._load_source(first)
        if self.doc is not None:
            self.doc.on_session_destroyed(lambda _: self._closed())

    def _closed(self) -> None:
        """Stop this tab's work when its browser tab goes away."""
        if self.job is not None:
            self.job.cancel.set()
        self._stop_playing()

    # --- layout ---------------------------------------------------------------------
    def _build(self, first: str, seed: int | None) -> None:
        self.scenario_select = pn.widgets.Select(
            name="Scenario", options=list(self.sources), value=first
        )
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", name="Upload a scenario")
        self.upload_errors = pn.pane.HTML("", visible=False, stylesheets=[PANE_CSS])
        self.seed = pn.widgets.IntInput(
            name="Seed", value=1 if seed is None else seed, start=0, step=1
        )
        self.replications = pn.widgets.IntSlider(
            name="Replications (for intervals)", start=1, end=10, value=REPLICATIONS
        )
        self.reset = pn.widgets.Button(name="Reset to the scenario", button_type="warning")
        self.knob_box = pn.Column()
        self.what_if_box = pn.widgets.CheckBoxGroup(name="What-ifs", options=[], inline=False)
        self.errors = pn.pane.HTML("", visible=False, stylesheets=[PANE_CSS])

        self.progress = pn.indicators.Progress(
            name="progress", value=0, max=100, visible=False, sizing_mode="stretch_width"
        )
        self.status = pn.pane.Markdown("")
        self.regime = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS])
        self.headline = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS])
        self.curve = pn.pane.PNG(None, sizing_mode="stretch_width")
        self.map = pn.pane.PNG(None, sizing_mode="stretch_width")

        self.compare_what = pn.widgets.RadioButtonGroup(
            name="Compare",
            options=["the what-ifs ticked", "these settings vs the scenario as loaded"],
            value="the what-ifs ticked",
        )
        self.compare_regime = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS])
        self.compare_table = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS])
        self.compare_curves = pn.Column(
            pn.pane.PNG(None, sizing_mode="stretch_width"),
            pn.pane.PNG(None, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

        self.go = pn.widgets.Button(name="▶ Go", button_type="success")
        self.pause = pn.widgets.Button(name="Pause", button_type="default")
        self.step = pn.widgets.Button(name="Step", button_type="default")
        self.go_reset = pn.widgets.Button(name="Reset the clock", button_type="warning")
        self.speed = pn.widgets.Select(name="Speed (per half second)", options=list(SPEEDS))
        self.speed.value = "6 hours"
        self.clock = pn.pane.HTML("", stylesheets=[PANE_CSS])
        self.live_picture = pn.pane.PNG(None, sizing_mode="stretch_width")
        self.make_clip = pn.widgets.Button(
            name="Make the clip (spiral animate, about 20 s)", button_type="primary"
        )
        self.clip_status = pn.pane.Markdown("")
        self.clip = pn.pane.GIF(None, width=960)

        self.tell = pn.widgets.Button(name="Tell two customers' stories", button_type="primary")
        self.stories = pn.Row(
            pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS]),
            pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PANE_CSS]),
            sizing_mode="stretch_width",
        )

        self.download = pn.widgets.FileDownload(
            callback=self._saved_file, filename="scenario.yaml", label="Save these settings"
        )
        self.command = pn.widgets.TextAreaInput(
            name="The command that reproduces this view", value="", disabled=True, rows=3
        )
        self.copy = pn.widgets.Button(name="Copy the command", button_type="default")
        self.copy.js_on_click(args={"source": self.command}, code=COPY_JS)
        self.full_screen = pn.widgets.Button(name="Full screen", button_type="light")
        self.full_screen.js_on_click(code=FULL_SCREEN_JS)
        self.presenter = pn.widgets.Button(name="Presenter type", button_type="light")
        self.presenter.js_on_click(code=PRESENTER_JS)

        self.tabs = pn.Tabs(
            (
                "The numbers",
                pn.Column(
                    self.regime, self.headline, self.curve, self.map, sizing_mode="stretch_width"
                ),
            ),
            (
                "Side by side",
                pn.Column(
                    self.compare_what,
                    self.compare_regime,
                    self.compare_table,
                    self.compare_curves,
                    sizing_mode="stretch_width",
                ),
            ),
            (
                "Go",
                pn.Column(
                    pn.Row(self.go, self.pause, self.step, self.go_reset, self.speed),
                    self.clock,
                    self.live_picture,
                    pn.Row(self.make_clip, self.clip_status),
                    self.clip,
                    sizing_mode="stretch_width",
                ),
            ),
            ("One customer", pn.Column(self.tell, self.stories, sizing_mode="stretch_width")),
            (
                "Save",
                pn.Column(self.download, self.command, self.copy, sizing_mode="stretch_width"),
            ),
            dynamic=False,
            sizing_mode="stretch_width",
        )
        self.template = pn.template.BootstrapTemplate(
            title="spiral studio",
            header=[pn.Row(self.presenter, self.full_screen)],
            sidebar=[
                self.scenario_select,
                self.upload,
                self.upload_errors,
                self.seed,
                self.replications,
                self.reset,
                pn.pane.Markdown("### What-ifs"),
                self.what_if_box,
                pn.pane.Markdown("### Knobs"),
                self.knob_box,
            ],
            main=[self.errors, self.progress, self.status, self.tabs],
            sidebar_width=380,
            raw_css=[PAGE_CSS],
        )

        self.scenario_select.param.watch(lambda e: self._load_source(e.new), "value")
        self.upload.param.watch(self._uploaded, "value")
        self.reset.on_click(lambda _: self._load_source(self.scenario_select.value))
        self.seed.param.watch(lambda _: self._changed(), "value")
        self.replications.param.watch(lambda _: self._changed(), "value_throttled")
        self.what_if_box.param.watch(lambda _: self._changed(), "value")
        self.compare_what.param.watch(lambda _: self._changed(), "value")
        self.tabs.param.watch(lambda _: self._changed(), "active")
        self.go.on_click(lambda _: self._play())
        self.pause.on_click(lambda _: self._stop_playing())
        self.step.on_click(lambda _: self._tick())
        self.go_reset.on_click(lambda _: self._reset_live())
        self.tell.on_click(lambda _: self._tell())
        self.make_clip.on_click(lambda _: self._make_clip())

    def _on_page(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the page's next tick (from any thread); False if it is gone."""
        try:
            self.doc.add_next_tick_callback(callback)
        except Exception:  # noqa: BLE001 - the tab was closed: nobody to show it to
            return False
        return True

    def servable(self) -> pn.template.BootstrapTemplate:
        """Return the page to serve."""
        return self.template

    # --- the knobs ------------------------------------------------------------------
    def _load_source(self, label: str) -> None:
        self.source = self.sources[label]
        self.setting = Setting(self.source.data, self.source.scenario)
        knobs = knobs_of(self.source.scenario)
        self.knobs_loaded = knobs
        self.failure_sliders = {
            name: pn.widgets.FloatSlider(
                name=f"failure: {name}", start=0.0, end=1.0, step=0.005, value=value
            )
            for name, value in knobs.failure.items()
        }
        self.staff_sliders = {
            name: pn.widgets.IntSlider(
                name=f"staff: {name}", start=1, end=max(2 * value, value + 5), value=value
            )
            for name, value in knobs.staff.items()
        }
        rate = knobs.arrival_rate
        self.rate_slider = pn.widgets.FloatSlider(
            name="arrivals per day",
            start=round(rate * 0.25, 2),
            end=round(rate * 3, 2),
            step=max(round(rate / 100, 2), 0.01),
            value=rate,  # exact: an untouched knob changes nothing
        )
        self.baton_slider = pn.widgets.FloatSlider(
            name="baton: warm-handoff share", start=0.0, end=1.0, step=0.05, value=knobs.baton
        )
        self.amplification_slider = pn.widgets.FloatSlider(
            name="amplification (severity × per failure)",
            start=1.0,
            end=max(5.0, 2 * knobs.amplification),
            step=0.1,
            value=knobs.amplification,
        )
        self.compounding_slider = pn.widgets.FloatSlider(
            name="compounding (odds × per failure)",
            start=min(0.5, knobs.compounding),
            end=max(3.0, 2 * knobs.compounding),
            step=0.05,
            value=knobs.compounding,
        )
        sliders = [
            self.rate_slider,
            self.baton_slider,
            self.amplification_slider,
            self.compounding_slider,
            *self.staff_sliders.values(),
            *self.failure_sliders.values(),
        ]
        for slider in sliders:
            slider.param.watch(lambda _: self._changed(), "value_throttled")
        self.knob_box.objects = sliders
        what_ifs = list(self.source.scenario.what_ifs)
        self._loading = True  # one job for the new scenario, not one per widget reset
        try:
            self.what_if_box.options = what_ifs
            self.what_if_box.value = what_ifs[:1]
        finally:
            self._loading = False
        self.download.filename = f"{self.source.scenario.name}_studio.yaml"
        self._changed()

    def _knobs(self) -> Knobs:
        return Knobs(
            failure={n: s.value for n, s in self.failure_sliders.items()},
            staff={n: int(s.value) for n, s in self.staff_sliders.items()},
            baton=self.baton_slider.value,
            arrival_rate=self.rate_slider.value,
            amplification=self.amplification_slider.value,
            compounding=self.compounding_slider.value,
        )

    def _uploaded(self, event: object) -> None:
        raw = self.upload.value
        if not raw:
            return
        name = self.upload.filename or "upload.yaml"
        try:
            source = from_upload(name, raw)
        except ScenarioError as error:
            self._show_errors(self.upload_errors, error.lines())
            return
        except Exception as error:  # noqa: BLE001 - the page never shows a traceback
            self._show_errors(self.upload_errors, [f"{safe_text(name)}: file: {error}"])
            return
        self.upload_errors.visible = False
        self.sources[source.label] = source
        self.scenario_select.options = list(self.sources)
        if self.scenario_select.value == source.label:  # the same name again: reload it
            self._load_source(source.label)
        else:
            self.scenario_select.value = source.label  # loads it

    @staticmethod
    def _show_errors(pane: pn.pane.HTML, lines: list[str]) -> None:
        pane.object = problems_html(lines)
        pane.visible = True

    def _changed(self) -> None:
        """Validate the moved settings, stop the old job and start the visible tab's work."""
        if self._loading:
            return
        if self.job is not None:
            self.job.cancel.set()
        problems = []
        if self.seed.value is None:
            problems = ["Seed: expected a whole number of at least 0"]
        else:
            try:
                self.setting = apply_knobs(self.source.data, self._knobs(), self.source.label)
            except ScenarioError as error:
                problems = error.lines()
        if problems:  # nothing runs and nothing saves until the settings are valid again
            self._show_errors(self.errors, problems)
            self.download.disabled = True
            self.progress.visible = False
            return
        self.errors.visible = False
        self.download.disabled = False
        self._update_command()
        self._reset_live()
        tab = self.tabs.active
        if tab == 0:
            sides = [Side("these settings", self.setting.scenario)]
            self._start(sides, self._show_numbers)
        elif tab == 1:
            self._start(self._compared_sides(), self._show_side_by_side)

    def _what_if(self) -> str | None:
        ticked = list(self.what_if_box.value)
        return "+".join(ticked) if ticked else None

    def _compared_sides(self) -> list[Side]:
        scenario = self.setting.scenario
        if self.compare_what.value == "the what-ifs ticked":
            what_if = self._what_if()
            if what_if is None:
                return [Side("baseline", scenario)]
            return [Side("baseline", scenario), Side(what_if, scenario, what_if)]
        return [Side("as loaded", self.source.scenario), Side("these settings", scenario)]

    def _update_command(self) -> None:
        saved = self.download.filename
        if self.tabs.active == 1 and self.compare_what.value == "the what-ifs ticked":
            lines = command_lines(
                saved, self.seed.value, self.replications.value, what_if=self._what_if()
            )
        elif self.tabs.active == 1:
            lines = command_lines(
                saved, self.seed.value, self.replications.value, original=self.source.file_name
            )
        else:
            lines = command_lines(saved, self.seed.value, self.replications.value)
        changed = ", ".join(self.setting.changed) or "nothing: the scenario as loaded"
        self.command.value = "\n".join(
            [f"# save these settings as {saved} first (changed: {changed})", *lines]
        )

    def _saved_file(self) -> io.BytesIO:
        text = self.setting.yaml_text(self.source.label)
        return io.BytesIO(text.encode("utf-8"))

    # --- jobs -----------------------------------------------------------------------
    def _start(self, sides: list[Side], show: Callable[[list[Side]], None]) -> None:
        if self.job is not None:
            self.job.cancel.set()
        job = self.job = Job(threading.Event())
        engine = engine_for(sides)
        self.progress.value = 0
        self.progress.visible = True
        self.status.object = (
            f"Running {'the vectorised engine' if engine == 'vectorised' else 'the SimPy engine'}"
            f" ({self.replications.value} replications, seeds {self.seed.value} onward)…"
        )
        replications = self.replications.value
        seed = self.seed.value

        def later(callback: Callable[[], None]) -> None:
            def current() -> None:  # a newer job may have started since this was scheduled
                if self.job is job and not job.cancel.is_set():
                    callback()

            if not job.cancel.is_set() and not self._on_page(current):
                job.cancel.set()

        def progress(fraction: float) -> None:
            later(lambda: setattr(self.progress, "value", int(fraction * 100)))

        drawn = [time.perf_counter()]

        def replication(done: list[Side]) -> None:
            # quick runs are drawn once, at the end; slow ones as each replication lands
            last = min(len(side.results) for side in done) == replications
            if last or time.perf_counter() - drawn[0] > REDRAW_AFTER:
                pictures = show_pictures(done)
                drawn[0] = time.perf_counter()
                later(lambda: show(done, pictures))

        def work() -> None:
            try:
                compute(sides, seed, replications, lambda: stopping(job), progress, replication)
            except Cancelled:
                return
            except Exception as error:  # noqa: BLE001 - shown in one line, never a traceback
                message = safe_text(f"{self.source.label}: simulation failed: {error}")
                later(lambda: self._show_errors(self.errors, [message]))
            later(self._finished)

        show_pictures = self._pictures_for(show)
        background(work, "spiral-studio-job")

    def _finished(self) -> None:
        self.progress.visible = False
        self.status.object = self.status.object.replace("Running", "Ran").replace("…", ".")

    def _pictures_for(self, show: Callable) -> Callable[[list[Side]], list[bytes]]:
        if show == self._show_numbers:
            return lambda sides: [
                png_bytes(spiral_curve(sides[0].results), dpi=80),
                png_bytes(journey_map(sides[0].results[0]), dpi=80),
            ]
        return lambda sides: [png_bytes(spiral_curve(s.results, s.label), dpi=80) for s in sides]

    # --- what the room sees ------------------------------------------------------------
    def _show_numbers(self, sides: list[Side], pictures: list[bytes]) -> None:
        self.headline.object = numbers_html(sides[0])
        self.regime.object = regime_html(sides)
        self.curve.object, self.map.object = pictures

    def _show_side_by_side(self, sides: list[Side], pictures: list[bytes]) -> None:
        self.compare_regime.object = regime_html(sides)
        if len(sides) == 1:
            self.compare_table.object = "<p>Tick a what-if to compare it with the baseline.</p>"
            self.compare_curves[0].object, self.compare_curves[1].object = pictures[0], None
            return
        self.compare_table.object = comparison_html(*sides, self.seed.value)
        self.compare_curves[0].object, self.compare_curves[1].object = pictures

    # --- go ---------------------------------------------------------------------------
    def _reset_live(self) -> None:
        self._stop_playing()
        self.live = None
        self.clock.object = '<div class="clock" data-minutes="0">day 0 · press ▶ Go</div>'
        self.live_picture.object = None

    def _play(self) -> None:
        if self.playing is None:
            self.playing = pn.state.add_periodic_callback(self._tick, period=TICK_MS)

    def _stop_playing(self) -> None:
        if self.playing is not None:
            self.playing.stop()
            self.playing = None

    def _tick(self) -> None:
        if self.live is None:
            self.live = LiveRun(self.setting.scenario, self.seed.value)
        live = self.live
        live.advance(SPEEDS[self.speed.value])
        state = live.trajectory()
        scenario = live.scenario
        day = live.now / 1440
        phase = "drain: no new customers" if live.engine.arrivals_done else "arrivals open"
        if live.done:
            phase = "finished"
            self._stop_playing()
        self.clock.object = (
            f'<div class="clock" data-minutes="{live.now:.0f}">day {day:.1f} · {phase} · '
            f"in journey {state.in_journey:,} · arrived {state.arrivals:,} · "
            f"churned {state.churned:,}</div>"
        )
        figure = live_chart(
            state.day,
            {"backlog": state.backlog, "failure": state.failure, "reputation": state.reputation},
            live.arrivals_end / 1440,
            max(live.end, live.now) / 1440,
            f"{scenario.name}: the organisation over time (seed {live.engine.seed})",
        )
        self.live_picture.object = png_bytes(figure, dpi=70)

    def _make_clip(self) -> None:
        scenario, seed, what_if = self.setting.scenario, self.seed.value, self._what_if()
        shown = f" with {what_if}" if what_if else ""
        self.clip_status.object = f"Simulating with the event log and drawing the frames{shown}…"
        self.make_clip.disabled = True

        def work() -> None:
            try:
                gif, note = clip(scenario, seed, what_if), f"The clip{shown} (seed {seed})."
            except Exception as error:  # noqa: BLE001 - one line, never a traceback
                gif, note = None, safe_text(f"no clip: {error}")

            def show() -> None:
                self.clip.object, self.clip_status.object = gif, note
                self.make_clip.disabled = False

            self._on_page(show)

        background(work, "spiral-studio-clip")

    # --- one customer -------------------------------------------------------------------
    def _tell(self) -> None:
        scenario, seed = self.setting.scenario, self.seed.value
        self.stories[0].object = "<p>Simulating with the event log…</p>"
        self.stories[1].object = ""

        def work() -> None:
            try:
                told = two_stories(scenario, seed)
            except Exception as error:  # noqa: BLE001 - one line, never a traceback
                told = [[safe_text(f"no story: {error}")], []]
            texts = stories_html(told)
            self._on_page(lambda: self._show_stories(texts))

        background(work, "spiral-studio-story")

    def _show_stories(self, texts: list[str]) -> None:
        self.stories[0].object, self.stories[1].object = texts
