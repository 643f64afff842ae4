"""The speed benchmark: its corpora, its three configurations, and its report."""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import corpora, pipeline_speed  # noqa: E402
from benchmarks.corpora import Record, write_jsonl  # noqa: E402
from benchmarks.pipelines import SEED_JOBS, build_default_pipeline, load_configuration, seed_job_heads  # noqa: E402
from tiny_data import PAPERS  # noqa: E402

HEADS = ["sections", "erc", "arxiv", "hrcs_rac", "hrcs_hc", "entities"]


@pytest.fixture(scope="module")
def saved_pipeline(tiny_bert, tmp_path_factory):
    """The default benchmark pipeline (configs/full_pipeline.cfg, untrained) on the tiny BERT."""
    return build_default_pipeline(tmp_path_factory.mktemp("bench") / "pipeline", encoder=str(tiny_bert))


@pytest.fixture(scope="module")
def records():
    # The front (title and abstract) is much shorter than the text.
    return [Record(text=paper[0] * 4, front=paper[0].split("\n\n1 ")[0][:120], source="tiny") for paper in PAPERS]


def test_default_pipeline_has_every_head_and_the_seed_entity_label_count(saved_pipeline):
    nlp = load_configuration("full", saved_pipeline).jobs[0].nlp
    assert nlp.pipe_names == ["transformer"] + HEADS
    assert len(nlp.get_pipe("entities").labels) == 28


def test_seed_jobs_map_the_five_seed_models_to_heads():
    jobs = seed_job_heads(HEADS)
    assert list(jobs) == ["erc", "sections", "arxiv", "hrcs", "entities"]
    assert jobs["hrcs"] == (("hrcs_rac", "hrcs_hc"), "front")
    assert {job: reads for job, (_, reads) in jobs.items()} == {
        "erc": "front", "sections": "text", "arxiv": "front", "hrcs": "front", "entities": "text"
    }
    # a head that no seed job does gets a job (and an encoder) of its own
    assert seed_job_heads(["sections", "mesh"])["mesh"] == (("mesh",), "text")
    assert set(SEED_JOBS) == {"erc", "sections", "arxiv", "hrcs", "entities"}


def count_wordpieces(nlp):
    seen = []
    module = nlp.get_pipe("transformer").model.transformer
    handle = module.register_forward_hook(
        lambda module, args, kwargs, output: seen.append(int(kwargs["attention_mask"].sum())), with_kwargs=True
    )
    return seen, handle


def test_seed_way_runs_one_encoder_per_job_over_what_the_job_reads(saved_pipeline, records):
    bare = load_configuration("bare", saved_pipeline)
    seed = load_configuration("seed", saved_pipeline)
    assert bare.jobs[0].nlp.pipe_names == ["transformer"]
    assert seed.n_encoders == 5
    encoders = {id(job.nlp.get_pipe("transformer").model.transformer) for job in seed.jobs}
    assert len(encoders) == 5  # separate copies, not one shared module
    seen = {}
    handles = []
    for job in seed.jobs + bare.jobs:
        seen[job.name], handle = count_wordpieces(job.nlp)
        handles.append(handle)
    try:
        assert seed.run(records, batch_size=2) == 5 * len(records)
        assert bare.run(records, batch_size=2) == len(records)
    finally:
        for handle in handles:
            handle.remove()
    read = {name: sum(counts) for name, counts in seen.items()}
    assert read["sections"] == read["entities"] == read["bare"] > 0
    for job in ("erc", "arxiv", "hrcs"):
        assert 0 < read[job] < read["bare"] / 4
    docs = list(seed.jobs[0].nlp.pipe([records[0].front]))
    assert any(key.startswith("erc/") for key in docs[0].cats)


def test_benchmark_prints_the_table_and_writes_the_figures(saved_pipeline, records, tmp_path, capsys):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(records, corpus)
    output = tmp_path / "result.json"
    report = pipeline_speed.main([
        "--corpus", str(corpus), "--pipeline", str(saved_pipeline), "--runs", "2",
        "--batch-size", "2", "--threads", "1", "--output", str(output), "--no-memory",
    ])
    printed = capsys.readouterr().out
    assert "| bare encoder |" in printed and "seed way (5 encoders)" in printed and "full/bare time" in printed
    written = json.loads(output.read_text())
    assert written["results"] == report["results"]
    result = written["results"][0]
    assert result["n_docs"] == len(records)
    assert result["words"] == sum(len(r.text.split()) for r in records)
    for name in ("bare", "full", "seed"):
        figures = result["configurations"][name]
        assert len(figures["seconds"]) == 2 and all(s > 0 for s in figures["seconds"])
        assert figures["docs_per_s"] == pytest.approx(len(records) / figures["median_seconds"], rel=0.01)
    medians = {n: c["median_seconds"] for n, c in result["configurations"].items()}
    assert result["ratios"]["full_over_bare_time"] == pytest.approx(medians["full"] / medians["bare"], rel=0.01)
    assert result["ratios"]["seed_over_full_time"] == pytest.approx(medians["seed"] / medians["full"], rel=0.01)


@pytest.mark.slow
def test_memory_is_measured_in_a_fresh_process(saved_pipeline, records, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(records, corpus)
    args = pipeline_speed.parse_args(["--pipeline", str(saved_pipeline), "--batch-size", "2", "--threads", "1"])
    seed = pipeline_speed.measure_memory(args, "seed", corpus)
    assert seed["n_encoders"] == 5
    # the probe starts small and grows as it loads five pipelines: its peak is
    # its own, not carried over from this (larger) test process
    assert seed["peak_rss_mb"] >= seed["rss_after_loading_mb"] > seed["rss_after_imports_mb"] > 0


def test_corpora_fall_back_to_the_example_papers(monkeypatch):
    monkeypatch.delenv("SCICLS_DATA_DIR", raising=False)
    abstracts = corpora.load_corpus("abstracts", 5)
    assert len(abstracts) == 5 and all(r.text == r.front for r in abstracts)
    papers = corpora.load_corpus("papers", 2)
    assert len(papers) == 2
    assert 0.75 * corpora.PAPER_WORDS <= corpora.n_words(papers[0].text) <= corpora.PAPER_WORDS
    assert corpora.n_words(papers[0].front) < 300
    with pytest.raises(ValueError, match="unknown corpus"):
        corpora.load_corpus("novels", 2)
    with pytest.raises(ValueError, match="at least 1"):
        corpora.load_corpus("abstracts", 0)


def test_jsonl_corpus_needs_a_text_per_line(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "A paper.", "front": "A"}) + "\n\n" + json.dumps({"text": "B"}) + "\n")
    assert [(r.text, r.front) for r in corpora.read_jsonl(good)] == [("A paper.", "A"), ("B", "B")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"title": "no text"}) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        corpora.read_jsonl(bad)


@pytest.mark.skipif(not corpora.data_dir_from_env(), reason="SCICLS_DATA_DIR is not set")
def test_real_corpora_have_the_target_lengths():
    abstracts = corpora.load_corpus("abstracts", 30)
    assert {r.source for r in abstracts} >= {"arxiv_ml", "hrcs_nihr"}
    assert all(200 <= corpora.n_words(r.text) <= 300 for r in abstracts)
    papers = corpora.load_corpus("papers", 4)
    assert all(6000 <= corpora.n_words(r.text) <= 8000 for r in papers)
    assert all(r.front in r.text and corpora.n_words(r.front) < 600 for r in papers)


def test_overrides_half_precision_and_larger_batches_on_gpu_only(tmp_path):
    from benchmarks.pipelines import GPU_MAX_BATCH_ITEMS, GPU_PREDICT_MAX_WORDPIECES, load_overrides

    cpu = load_overrides(gpu=False)["components"]["transformer"]
    assert cpu == {"model": {"mixed_precision": False}}
    gpu = load_overrides(gpu=True)["components"]["transformer"]
    assert gpu == {
        "model": {"mixed_precision": True, "predict_max_wordpieces": GPU_PREDICT_MAX_WORDPIECES},
        "max_batch_items": GPU_MAX_BATCH_ITEMS,
    }
    chosen = load_overrides(gpu=True, mixed_precision=False, max_batch_items=512, predict_max_wordpieces=0)
    assert chosen["components"]["transformer"] == {
        "model": {"mixed_precision": False, "predict_max_wordpieces": 0}, "max_batch_items": 512
    }
    # a pipeline on spacy-transformers' own architecture has no predict_max_wordpieces to set
    (tmp_path / "config.cfg").write_text(
        '[components]\n\n[components.transformer]\nfactory = "transformer"\n\n'
        '[components.transformer.model]\n@architectures = "spacy-transformers.TransformerModel.v3"\n'
    )
    other = load_overrides(gpu=True, path=tmp_path)["components"]["transformer"]["model"]
    assert "predict_max_wordpieces" not in other


def test_section_finder_times_the_steps_that_heading_spans_takes():
    """The benchmark's steps, one by one, give the heading lines of heading_spans itself."""
    from benchmarks import section_finder
    from spacy_scicls.segmentation.lines import HeadingLineModel, heading_spans

    model = HeadingLineModel.from_disk()
    for text, *_ in PAPERS:
        times, flags = section_finder.step_seconds(text, model)
        assert "line_features" in times and "model: second pass" in times and "reflowed: line_features" in times
        lines, offset = [], 0  # (start, end) of each line's text
        for line in text.splitlines(keepends=True):
            lines.append((offset, offset + len(line.rstrip("\r\n"))))
            offset += len(line)
        spans = heading_spans(text, model)
        touched = {i for i, (start, end) in enumerate(lines) if any(a < end and start < b for a, b in spans)}
        assert touched and {i for i, flag in enumerate(flags) if flag} == touched


def test_section_finder_times_cpu_seconds_on_request():
    from benchmarks import section_finder
    from spacy_scicls.segmentation.lines import HeadingLineModel

    model = HeadingLineModel.from_disk()
    times = section_finder.measure(PAPERS[0][0], model, 1, section_finder.CLOCKS["cpu"])
    assert times["heading_spans"] > 0 and all(seconds >= 0 for seconds in times.values())


def test_section_finder_long_text_is_the_papers_in_turn_cut_after_a_line():
    from benchmarks.section_finder import long_text

    text = long_text([("a", "one\ntwo\n"), ("b", "three\n")], 30)
    assert text == "one\ntwo\n\nthree\n\none\ntwo\n\n"  # 25 characters: the next line would pass 30
