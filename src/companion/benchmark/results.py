"""What one benchmark run measured: a result per (model, task, mode), and the report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from companion.benchmark.comparison import compare
from companion.timing import TimingResult


@dataclass(frozen=True)
class BenchmarkResult:
    """One (model, task, mode) measurement. Times are per training step or per batch."""

    model: str
    task: str
    mode: str
    label: str
    framework: str
    device: str
    batch_size: int
    steps_per_call: int = 1
    first_call_s: float | None = None
    steady: TimingResult | None = None
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.steady is not None

    @property
    def one_off_s(self) -> float | None:
        """First call minus the steady cost of the same work: tracing, compiling, set-up."""
        if not self.ok or self.first_call_s is None:
            return None
        return max(
            0.0, self.first_call_s - self.steps_per_call * self.steady.median_s
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["steady"] = None if self.steady is None else self.steady.as_dict()
        data["notes"] = list(self.notes)
        data["one_off_s"] = self.one_off_s
        return data


@dataclass
class BenchmarkReport:
    """Everything one run measured, with the environment it ran in."""

    environment: dict
    settings: dict
    results: list[BenchmarkResult] = field(default_factory=list)

    def find(self, model: str, task: str, mode: str) -> BenchmarkResult | None:
        for result in self.results:
            if (result.model, result.task, result.mode) == (model, task, mode):
                return result
        return None

    def as_dict(self) -> dict:
        return {
            "environment": self.environment,
            "settings": self.settings,
            "results": [result.as_dict() for result in self.results],
            "comparisons": [asdict(c) for c in compare(self)],
        }

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8"
        )
        return path


def per_step(timing: TimingResult, steps: int) -> TimingResult:
    """``timing`` of calls that make ``steps`` steps each, as times per step."""
    if steps == 1:
        return timing
    return replace(
        timing,
        median_s=timing.median_s / steps,
        q1_s=timing.q1_s / steps,
        q3_s=timing.q3_s / steps,
        min_s=timing.min_s / steps,
        max_s=timing.max_s / steps,
        samples_s=tuple(s / steps for s in timing.samples_s),
    )
