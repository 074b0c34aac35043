"""The contract's model catalogue, written out once for the tests (docs/api.md): the models a
request names, their labels, γ = sup φ' and gates. The server's own table (core/catalogue.py,
served by /api/meta and embedded in the page) is checked against this one in test_api.py."""

MODELS = {  # catalogue key -> the request's model entry
    "rnn-sigmoid": {"cell": "rnn", "activation": "sigmoid"},
    "rnn-tanh": {"cell": "rnn", "activation": "tanh"},
    "rnn-relu": {"cell": "rnn", "activation": "relu"},
    "lstm": {"cell": "lstm"},
    "gru": {"cell": "gru"},
}
ALL_MODELS = list(MODELS.values())
LABELS = {"rnn-sigmoid": "RNN (sigmoid)", "rnn-tanh": "RNN (tanh)", "rnn-relu": "RNN (relu)",
          "lstm": "LSTM", "gru": "GRU"}
GAMMA = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}
GATES = {"rnn": (), "lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "candidate")}
INCLUDE_EVERYTHING = ["hidden", "cell_state", "gates", "grads", "jacobian", "params", "preactivation"]
