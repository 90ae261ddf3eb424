"""`python -m bench.run` on a clean checkout: every mode's argument handling with no
bench/out/results.json, in a temp dir (the studies themselves are not run here)."""

from __future__ import annotations

import json

import pytest

from bench import report, report_goals, run


@pytest.fixture
def clean_out(tmp_path, monkeypatch):
    """bench/out and docs/ as on a fresh clone: an empty results dir, a docs dir with no page yet."""
    out, docs = tmp_path / "out", tmp_path / "docs"
    monkeypatch.setattr(run, "OUT", out)
    monkeypatch.setattr(run, "DOCS", docs)
    monkeypatch.setattr(report, "DOCS", docs)
    return out, docs


def test_report_only_without_results_says_what_to_run(clean_out):
    out, docs = clean_out
    with pytest.raises(SystemExit) as exc:
        run.main(["--report-only"])
    assert "no benchmark results" in str(exc.value) and "make bench" in str(exc.value)
    assert not (docs / "benchmarks.md").exists()


@pytest.mark.parametrize("mode, study, kind", [("--only-shards-up", "shards_up", "shards-up"),
                                               ("--only-ceiling", "ceiling", "ceiling")])
def test_partial_study_starts_a_fresh_results_file(clean_out, monkeypatch, mode, study, kind):
    out, docs = clean_out
    ran = []

    def one_row(self):
        """Stands in for the study (minutes of engine time): one row of its kind, as it would record."""
        ran.append(study)
        self.results.append({"kind": kind, "op": "up", "n": 50, "latency": 100.0, "rep": 0, "variant": "baseline",
                             "shards": 0, "parallel": None, "seconds": 1.0, "total": 401, "reads": 50,
                             "writes": 350, "ims": 1, "by_kind": {}, "routes": {}, "load1": 0.0})

    monkeypatch.setattr(run.Bench, study, one_row)
    run.main([mode, "--sizes", "1,50", "--latencies", "0,100"])
    assert ran == [study]
    data = json.loads((out / "results.json").read_text())
    assert data["sizes"] == [1, 50] and data["latencies"] == [0.0, 100.0]
    assert [r["kind"] for r in data["results"]] == [kind]
    assert kind in data["partial_runs"]
    assert (docs / "benchmarks.md").read_text().startswith("# Benchmarks")
    # A second partial run keeps the first one's rows of other kinds and replaces its own.
    run.main([mode])
    assert len(json.loads((out / "results.json").read_text())["results"]) == 1


def test_report_only_rewrites_from_existing_results(clean_out):
    out, docs = clean_out
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"results": [], "machine": {"cpu": "x"}, "sizes": [1],
                                                  "latencies": [0.0], "shards": 4}))
    run.main(["--report-only"])
    assert "- cpu: x" in (docs / "benchmarks.md").read_text()


def test_bad_numbers_are_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        run.parse_args(["--sizes", "1,ten"])
    assert exc.value.code == 2


def _row(kind, op, n, lat, seconds, **extra):
    return {"kind": kind, "op": op, "n": n, "latency": lat, "rep": 0, "seconds": seconds, "total": 0, "reads": 0,
            "writes": 0, "ims": 0, "by_kind": {}, "routes": {}, **extra}


def test_the_goals_and_the_fitted_growth_from_rows():
    rows = [_row("baseline", "up", 50, 500.0, 200.0), _row("pulumi", "up", 50, 500.0, 16.0, shards=5),
            _row("baseline", "up", 50, 100.0, 40.0), _row("pulumi", "up", 50, 100.0, 20.0, shards=5),
            _row("pulumi", "preview", 50, 0.0, 2.5)]
    goals = {g: (met, detail) for g, met, detail in report_goals.goals(rows)}
    ten = next(v for g, v in goals.items() if "10x" in g)
    three = next(v for g, v in goals.items() if "3x" in g)
    assert ten[0] is True and "12.5x" in ten[1] and "5 provider shards" in ten[1]
    assert three[0] is False and "2.0x" in three[1]
    assert next(v for g, v in goals.items() if "preview" in g)[0] is True
    # Linear: 1 + 0.2 N; worse: 1 + 0.01 N^2.
    lin = [_row("pulumi", "up", n, 0.0, 1 + 0.2 * n) for n in (1, 10, 50)]
    sq = [_row("pulumi", "destroy", n, 0.0, 1 + 0.01 * n * n) for n in (1, 10, 50)]
    table = "\n".join(report_goals.growth(lin + sq, [1, 10, 50], [0.0]))
    up = next(line for line in table.splitlines() if line.startswith("| `pulumi up`"))
    down = next(line for line in table.splitlines() if line.startswith("| `pulumi destroy`"))
    assert "| 0.200 |" in up and up.endswith("| linear |")
    assert "worse than linear" in down


def test_each_cell_of_the_shards_up_study_keeps_its_own_table(clean_out, monkeypatch):
    out, docs = clean_out

    def rows_at_the_cell(self):
        n, lat = self.study_cell()
        for variant, secs, most in (("baseline", 40.0, 1), ("SDK pool, providerShards=0", 20.0, 4),
                                    ("default --parallel 32", 10.0, 32)):
            self.results.append(_row("shards-up", "up", n, lat, secs, variant=variant, max_in_flight=most))

    monkeypatch.setattr(run.Bench, "shards_up", rows_at_the_cell)
    run.main(["--only-shards-up", "--sizes", "1,50", "--latencies", "0,100"])
    run.main(["--only-shards-up", "--study-at", "50@500"])
    run.main(["--only-shards-up", "--study-at", "50@500"])  # replaces its own cell's rows only
    rows = json.loads((out / "results.json").read_text())["results"]
    assert sorted({(r["n"], r["latency"]) for r in rows}) == [(50, 100.0), (50, 500.0)] and len(rows) == 6
    page = (docs / "benchmarks.md").read_text()
    for lat in ("100", "500"):
        assert f"past the 4-call ceiling (N = 50, {lat} ms)" in page
    assert "| default --parallel 32 | 10.00 | 1 | 10.00 | 4.00 | 32 |" in page


def test_study_at_is_one_cell():
    assert run.parse_args(["--study-at", "50@500"]).study_at == (50, 500.0)
    with pytest.raises(SystemExit):
        run.parse_args(["--study-at", "fifty"])
