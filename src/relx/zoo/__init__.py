"""The model zoo: named recipes over the bundled data, built on this machine (never downloaded).

``relx models --zoo`` lists them, ``relx zoo build NAME`` trains one into ``RELX_HOME`` (see
:mod:`relx.zoo.cache`), and every model argument (``relx.load``, ``relx predict``, ``relx serve``) accepts
a recipe name where no such directory exists."""

from __future__ import annotations

from relx.zoo.cache import is_built, model_dir, relx_home, resolve_model_path, run_dir
from relx.zoo.recipes import RECIPES, Recipe, get_recipe

__all__ = ["RECIPES", "Recipe", "get_recipe", "is_built", "model_dir", "relx_home", "resolve_model_path", "run_dir"]
