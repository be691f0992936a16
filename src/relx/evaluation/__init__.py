"""Scoring (TACRED / SemEval official, triples, joint NER+RE), analysis and plots."""

from relx.evaluation.scorer import format_report, score_documents, score_joint, score_labels, score_triples

__all__ = ["score_labels", "score_documents", "score_triples", "score_joint", "format_report"]
