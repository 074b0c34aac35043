"""The page's preset sweeps, as data: one place for the request of each, served by /api/meta
(`sweeps.presets`) and used as they are by the Sweep tab and by benchmarks/bench_sweep.py.

- where_tanh_stops_vanishing: σ_max of the recurrent matrix × the activation, on a vanilla
  RNN (Pascanu et al. 2013): the decay rate crosses 1 near γ σ_max = 1.
- mean_field_phase_diagram: the random tanh RNN's σ_w × σ_b (init scheme "normal": σ_w =
  init.std · √H with H = 100, σ_b = init.bias_std; impulse input, so that the recurrence alone
  acts after t = 1), the measured decay rate against the theory's √χ₁ and its critical line
  χ₁ = 1 (GET /api/theory/critical-line?hidden_size=100).
- success_rate_versus_T: four models trained on the temporal-order problem (Hochreiter &
  Schmidhuber 1997) at growing T over five seeds — how often each solves it; its chance level
  (accuracy 1/4) comes with every point (`baseline`). Sized to finish in a few minutes on two
  cores (benchmarks/bench_sweep.py measures it).
"""

MEAN_FIELD_H = 100

PRESETS: dict[str, dict] = {
    "where_tanh_stops_vanishing": {
        "kind": "run",
        "base": {"seq_len": 100, "hidden_size": 32, "input": {"kind": "gaussian"},
                 "init": {"scheme": "orthogonal"}, "include": []},
        "grid": {"init.sigma_max": [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0],
                 "models": [[{"cell": "rnn", "activation": "sigmoid"}],
                            [{"cell": "rnn", "activation": "tanh"}],
                            [{"cell": "rnn", "activation": "relu"}]]},
        "seeds": [0, 1, 2],
    },
    "mean_field_phase_diagram": {
        "kind": "run",
        "base": {"models": [{"cell": "rnn", "activation": "tanh"}], "seq_len": 100,
                 "hidden_size": MEAN_FIELD_H, "input": {"kind": "impulse"}, "init": {"scheme": "normal"},
                 "include": []},
        # σ_w = 0.5, 0.75, …, 3 and σ_b = 0, 0.1, …, 0.6
        "grid": {"init.std": [round(0.025 * k, 3) for k in range(2, 13)],
                 "init.bias_std": [round(0.1 * k, 1) for k in range(7)]},
        "seeds": [0, 1],
    },
    "success_rate_versus_T": {
        "kind": "train",
        "base": {"task": "temporal_order",
                 "models": [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"},
                            {"cell": "lstm"}, {"cell": "gru"}],
                 "hidden_size": 32, "batch_size": 32, "steps": 400, "eval_every": 50, "eval_size": 256,
                 "optimizer": {"name": "adam", "lr": 0.01}, "clip": 1.0},
        "grid": {"seq_len": [10, 20, 40, 80]},
        "seeds": [0, 1, 2, 3, 4],
    },
}
