"""The model zoo: recipe listing, RELX_HOME, name resolution (an existing path wins), the one-line error for an
unbuilt recipe, and `relx zoo build` on a tiny recipe (tiny random encoder, no real training)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from relx.cli import main
from relx.errors import RelxConfigError, RelxInputError
from relx.zoo import RECIPES, Recipe, cache, relx_home, resolve_model_path
from relx.zoo.recipes import TASKS

ROOT = Path(__file__).resolve().parents[2]
SPERT = ROOT / "tests" / "fixtures" / "spert" / "tiny_train.json"


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    """A fresh RELX_HOME for the test, run from an empty folder (no ./conll04 to win over the zoo name)."""
    monkeypatch.setenv("RELX_HOME", str(tmp_path / "home"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path / "home"


@pytest.fixture()
def tiny_recipe(tmp_path, monkeypatch, tiny_bert, home) -> Recipe:
    """A recipe `tiny`: span_base on a tiny random BERT over the SpERT fixture, one epoch."""
    config = {
        "model": {
            "type": "span_base",
            "encoder": str(tiny_bert),
            "max_length": 64,
            "dropout": 0.0,
            "max_span_width": 4,
            "neg_entity_count": 20,
            "neg_relation_count": 20,
        },
        "data": {"train": str(SPERT), "dev": str(SPERT), "test": str(SPERT), "format": "spert"},
        "trainer": {"epochs": 1, "batch_size": 2, "seed": 3, "num_threads": 1, "progress": False, "lr": 1e-3},
        "evaluation": {"scheme": "joint", "metric": "re_strict_micro_f1"},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    recipe = Recipe("tiny", str(path), "joint", "a tiny test recipe", "≈ 2 s on 1 CPU core", "spert")
    monkeypatch.setitem(RECIPES, "tiny", recipe)
    return recipe


def test_every_shipped_recipe_has_a_config_task_description_and_build_time():
    assert {"conll04", "scierc", "semeval", "webnlg"} <= set(RECIPES)
    for name, recipe in RECIPES.items():
        assert recipe.name == name and recipe.config_path.is_file(), name
        assert recipe.task in TASKS and recipe.description and "\n" not in recipe.description
        assert recipe.build_time.startswith("≈") and "CPU" in recipe.build_time
        assert (ROOT / "data" / recipe.data).is_dir()


def test_shipped_recipes_fix_seed_and_threads():
    from relx.training.run import parse_run_config
    from relx.zoo.build import recipe_config

    kinds = {}
    for name, recipe in RECIPES.items():
        cfg, cls, _ = parse_run_config(recipe_config(recipe))
        assert cfg.trainer.seed == 13 and cfg.trainer.num_threads == 2, name
        kinds[name] = (cls.registered_name, cls.kind.value)
    assert kinds["conll04"] == ("span_base", "joint") and kinds["scierc"] == ("span_base", "joint")
    assert kinds["semeval"] == ("marker", "pair") and kinds["webnlg"] == ("kernel", "all_pairs")


def test_relx_home_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("RELX_HOME", str(tmp_path / "r"))
    assert relx_home() == tmp_path / "r"
    assert cache.model_dir("conll04") == tmp_path / "r" / "models" / "conll04" / "model"
    monkeypatch.delenv("RELX_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert relx_home() == tmp_path / "xdg" / "relx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert relx_home() == tmp_path / "h" / ".cache" / "relx"


def test_models_zoo_lists_recipes_and_their_state(home, capsys):
    assert main(["models", "--zoo"]) == 0
    out = capsys.readouterr().out
    assert str(home) in out
    for name, recipe in RECIPES.items():
        assert name in out and recipe.description in out and f"relx zoo build {name} ({recipe.build_time})" in out
    assert main(["zoo", "list"]) == 0
    assert capsys.readouterr().out == out


def test_unbuilt_recipe_is_a_one_line_error_with_the_build_command(home, capsys):
    with pytest.raises(RelxConfigError, match=r"relx zoo build conll04.*≈ 6.5 min"):
        resolve_model_path("conll04")
    assert main(["predict", "conll04", "--text", "Tim Cook works for Apple."]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`relx zoo build conll04`" in err and "CPU" in err
    assert main(["serve", "conll04", "--port", "8765"]) == 2  # refused before binding the port
    assert "relx zoo build conll04" in capsys.readouterr().err


def test_unknown_name_is_the_missing_directory_error_naming_the_zoo(home, capsys):
    assert resolve_model_path("no_such_model") == Path("no_such_model")
    assert main(["predict", "no_such_model", "--text", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model directory not found" in err and "relx models --zoo" in err


def test_an_existing_path_wins_over_a_zoo_name(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conll04").mkdir()
    assert resolve_model_path("conll04") == Path("conll04")  # a directory of that name: the zoo is not asked
    with pytest.raises(RelxInputError, match="config.json"):
        from relx.models.loading import load_model

        load_model("conll04")  # ... and it is what the loader reads (not a model: its own error)


def test_zoo_build_trains_a_loadable_model_with_a_card(tiny_recipe, home, capsys, monkeypatch):
    import relx

    assert main(["zoo", "build", "tiny", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "RE strict" in out and "built tiny in " in out and "(wall time)" in out
    run = home / "models" / "tiny"
    assert (run / "model" / "config.json").is_file() and (run / "zoo.json").is_file() and (run / "result.json").is_file()
    card = (run / "model" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: relx\n") and "relx zoo build tiny" in card
    assert not list(home.glob("models/.*")), "no temp folder left behind"
    monkeypatch.chdir(home)
    doc = relx.load("tiny")("John Smith works for Acme Corp in Boston.")
    assert doc.meta["text"] == "John Smith works for Acme Corp in Boston."
    assert main(["models", "--zoo"]) == 0 and f"built: {run / 'model'}" in capsys.readouterr().out
    # rebuilding needs --force, and then replaces only what the build wrote
    assert main(["zoo", "build", "tiny"]) == 2 and "--force" in capsys.readouterr().err
    (run / "notes.txt").write_text("mine")
    assert main(["zoo", "build", "tiny", "--force"]) == 2 and "notes.txt" in capsys.readouterr().err
    assert (run / "notes.txt").read_text() == "mine"
    (run / "notes.txt").unlink()
    assert main(["zoo", "build", "tiny", "--force", "--threads", "1"]) == 0
    assert (run / "model" / "README.md").is_file() and not list(home.glob("models/.*"))


def test_zoo_build_refuses_a_folder_it_did_not_write(tiny_recipe, home, capsys):
    run = home / "models" / "tiny"
    run.mkdir(parents=True)
    (run / "data.txt").write_text("precious")
    assert main(["zoo", "build", "tiny", "--force"]) == 2
    assert "did not write" in capsys.readouterr().err and (run / "data.txt").read_text() == "precious"


def test_zoo_build_unknown_recipe(home, capsys):
    assert main(["zoo", "build", "nope"]) == 2
    assert "unknown zoo recipe 'nope'" in capsys.readouterr().err


def test_a_killed_build_is_cleaned_up_and_a_parked_model_restored(home):
    import os

    from relx.zoo.build import recover

    models = home / "models"
    dead = 2**22 + 12345  # no such process
    (models / f".conll04.{dead}-abcdefgh.building" / "model").mkdir(parents=True)
    parked = models / f".conll04.{dead}-ijklmnop.old" / "x"
    (parked / "model").mkdir(parents=True)
    (parked / "zoo.json").write_text("{}")
    mine = models / ".conll04.backup"  # not a name a build makes: kept
    mine.mkdir()
    live = models / f".conll04.{os.getpid()}-qrstuvwx.building"  # a live build's: kept
    live.mkdir()
    recover(models / "conll04")
    assert (models / "conll04" / "zoo.json").is_file()
    assert sorted(p.name for p in models.iterdir()) == sorted(["conll04", ".conll04.backup", live.name])


def test_a_fifo_zoo_record_is_never_read(tmp_path):
    import os

    from relx.zoo.build import ZOO_MARKER, written_entries

    os.mkfifo(tmp_path / ZOO_MARKER)
    assert written_entries(tmp_path) == set()  # returns at once: a blocking read of the FIFO would hang here
