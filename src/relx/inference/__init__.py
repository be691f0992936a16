"""Inference: the Pipeline (:mod:`.pipeline`), prediction inputs from files (:mod:`.inputs`), raw-text extraction
as preprocess (:mod:`.preprocess`) -> model (:mod:`.strategies`, one per model kind) -> postprocess
(:mod:`.extraction`), and the engines that run a model's batches (:mod:`.engines`)."""
