"""Every lesson's claims (core/teaching.py LESSONS) on the runs and trainings they describe: on
the state's own seed, and on seeds 0–9 — all ten, or exactly the seeds the claim says it holds
on where it varies. The states go through the API's request schema and resolution, as the
page sends them (static/js/state.js), and the core computes them in-process."""

import math

import numpy as np
import pytest

from gradient_flow_lab.app.resolve import resolve_run, resolve_train
from gradient_flow_lab.app.schemas import RunRequest, TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core import teaching
from gradient_flow_lab.core.catalogue import MODELS
from gradient_flow_lab.core.run import collect, run
from gradient_flow_lab.core.teaching import CLAIM_KINDS, CLAIM_SEEDS, LESSONS, Claim, claim_holds
from gradient_flow_lab.core.train import TrainDone, train

STATES = [(lesson.id, state) for lesson in LESSONS for state in lesson.states]


def model_entry(key: str) -> dict:
    kind = MODELS[key]
    return {"cell": kind.cell, "activation": kind.activation} if kind.cell == "rnn" else {"cell": kind.cell}


def number(text: str):
    return None if text == "none" else float(text)


def run_request(s: dict, seed: int) -> RunRequest:
    """The explorer's request for a lesson state (state.js requestBody for these keys)."""
    return RunRequest(
        models=[model_entry(k) for k in s["models"]],
        seq_len=int(s["seq_len"]),
        hidden_size=int(s["hidden_size"]),
        input={"kind": s["input"]},
        loss={"at": s["loss"]},
        seed=seed,
        include=["grads"],
        init={
            "scheme": s["init"],
            "sigma_max": number(s["sigma_max"]),
            "forget_bias": float(s["forget_bias"]),
        },
    )


def train_request(s: dict, seed: int) -> TrainRequest:
    sgd = s["train_optimizer"] == "sgd"
    return TrainRequest(
        models=[model_entry(k) for k in s["train_models"]],
        task=s["train_task"],
        seq_len=int(s["train_seq_len"]),
        hidden_size=int(s["train_hidden_size"]),
        batch_size=int(s["train_batch_size"]),
        optimizer={
            "name": s["train_optimizer"],
            "lr": float(s["train_lr"]),
            "momentum": float(s["train_momentum"]) if sgd else 0.0,
        },
        clip=number(s["train_clip"]),
        steps=int(s["train_steps"]),
        eval_every=int(s["train_eval_every"]),
        eval_size=int(s["train_eval_size"]),
        seed=seed,
    )


def outcomes(state, seed: int) -> tuple[dict, dict | None]:
    """(catalogue key → model result, catalogue key → final metric) of a state at `seed`."""
    if state.tab == "explore":
        spec, _ = resolve_run(run_request(state.settings, seed), Settings())
        result = collect(run(spec))
        return dict(zip(state.settings["models"], result.models, strict=True)), None
    spec, _ = resolve_train(train_request(state.settings, seed), Settings())
    done = next(f for f in train(spec) if isinstance(f, TrainDone))
    return {}, {k: o.value for k, o in zip(state.settings["train_models"], done.models, strict=True)}


@pytest.fixture(scope="module")
def computed():
    """Every state on seeds 0–9, computed once for the module."""
    return {
        (lesson_id, state.key, seed): outcomes(state, seed)
        for lesson_id, state in STATES
        for seed in CLAIM_SEEDS
    }


def test_every_state_names_every_key_its_run_depends_on():
    for _, state in STATES:
        keys = teaching.RUN_KEYS if state.tab == "explore" else teaching.TRAIN_KEYS
        assert set(keys) <= set(state.settings), (state.key, set(keys) - set(state.settings))
        assert state.claims, "a state without a claim says nothing checked"
        for claim in state.claims:
            assert claim.kind in CLAIM_KINDS
            models = state.settings["models" if state.tab == "explore" else "train_models"]
            assert claim.model in models and (claim.other is None or claim.other in models)


@pytest.mark.parametrize(("lesson_id", "state"), STATES, ids=[f"{lid}-{s.key}" for lid, s in STATES])
def test_claims_hold_on_the_state_and_on_seeds_0_to_9(computed, lesson_id, state):
    own = int(state.settings.get("seed", state.settings.get("train_seed")))
    for claim in state.claims:
        holds = {seed: claim_holds(claim, *computed[lesson_id, state.key, seed])[0] for seed in CLAIM_SEEDS}
        assert holds[own], (claim, "fails on the state's own seed")
        want = set(CLAIM_SEEDS if claim.seeds is None else claim.seeds)
        assert {s for s, ok in holds.items() if ok} == want, claim


def test_the_claims_can_fail():
    """Each kind's predicate says no where the numbers say no (a claim that cannot fail checks nothing)."""
    models, _ = outcomes(LESSONS[2].states[0], 0)  # the impulse probe: sigmoid forgets, tanh keeps
    assert not claim_holds(Claim("horizon_all", "rnn-sigmoid"), models)[0]
    assert not claim_holds(Claim("horizon_max", "rnn-tanh", 10), models)[0]
    assert not claim_holds(Claim("ratio_max", "rnn-tanh", -30), models)[0]
    assert not claim_holds(Claim("ratio_min", "rnn-sigmoid", -30), models)[0]
    assert not claim_holds(Claim("keeps_more", "rnn-sigmoid", other="rnn-tanh"), models)[0]
    assert not claim_holds(Claim("grad_zero", "rnn-tanh"), models)[0]
    assert not claim_holds(Claim("sign_uniform_all", "rnn-tanh"), models)[0]
    assert not claim_holds(Claim("sign_uniform_mean_max", "rnn-sigmoid", 0.5), models)[0]
    assert not claim_holds(Claim("cell_ratio_max", "lstm", -8), models)[0]
    assert not claim_holds(Claim("cell_ratio_min", "lstm", 5), models)[0]
    tanh = models["rnn-tanh"]
    tanh.grad_norm[0] = 10 * tanh.grad_norm[-1] * tanh.bound[0]  # above the bound at t = 1
    assert not claim_holds(Claim("under_bound", "rnn-tanh"), models)[0]
    metric = {"rnn-tanh": math.inf}
    assert not claim_holds(Claim("metric_max", "rnn-tanh", 10), {}, metric)[0]
    assert claim_holds(Claim("metric_min", "rnn-tanh", 1e100), {}, metric)[0]
    assert not claim_holds(Claim("metric_min", "rnn-tanh", 1e100), {}, {"rnn-tanh": 0.2})[0]


def test_the_impulse_probe_says_what_its_run_shows():
    """The issue's case: at T = 100 with an impulse the untrained GRU forgets x₁ (its horizon is
    short) while the tanh RNN at σ_max = 1 and the LSTM keep it — the lesson says that now."""
    models, _ = outcomes(LESSONS[2].states[0], 0)
    assert models["gru"].summary["memory_horizon"] < 30
    assert models["rnn-tanh"].summary["memory_horizon"] is None
    assert models["lstm"].summary["memory_horizon"] is None


def test_the_lessons_as_data_are_json():
    data = teaching.lessons_as_dicts()
    assert [d["id"] for d in data] == [lesson.id for lesson in LESSONS]
    claim = data[0]["states"][0]["claims"][0]
    assert set(claim) == {"kind", "model", "value", "other", "seeds"}
    assert np.isfinite(claim["value"])
