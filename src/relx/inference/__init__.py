"""Inference: the Pipeline, raw-text extraction and the engines that run a model."""
