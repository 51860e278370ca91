"""companion.deployment.demo_site: the draw-a-digit page's files, made once per change."""

from __future__ import annotations

import json

import numpy as np

from companion.deployment import demo_site


def test_the_samples_are_one_test_digit_per_class(split):
    samples = demo_site._samples(split)["samples"]
    assert [s["label"] for s in samples] == list(range(10))
    for sample in samples:
        pixels = np.array(sample["pixels"])
        assert pixels.shape == (64,)
        assert pixels.min() >= 0
        assert pixels.max() <= 16
        image = split.x_test[sample["test_index"], 0]
        assert split.y_test[sample["test_index"]] == sample["label"]
        np.testing.assert_allclose(pixels.reshape(8, 8) / 16, image, atol=1 / 32)


def test_the_key_is_stable_and_a_second_build_does_nothing(tmp_path, monkeypatch):
    assert demo_site.source_key() == demo_site.source_key()
    trained = []

    def fake_train(models):
        trained.append(models)
        for name in demo_site.MODELS.values():
            (models / name).write_bytes(b"onnx")
        return {"pytorch": 0.9, "tensorflow": 0.9}

    monkeypatch.setattr(demo_site, "_train_and_export", fake_train)
    assert demo_site.build(tmp_path) is True
    assert demo_site.build(tmp_path) is False
    assert len(trained) == 1
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert manifest["key"] == demo_site.source_key()
    assert sorted(p.name for p in (tmp_path / "ort").iterdir()) == sorted(
        demo_site.web_runtimes.ORT_FILES
    )
    assert demo_site.build(tmp_path, force=True) is True
