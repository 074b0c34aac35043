// The run on screen as a runnable PyTorch script (float64): the modules (nn.RNN / nn.LSTM /
// nn.GRU with the run's sizes, layers, directions and nonlinearity, and an nn.Linear head), their
// weights — the numbers of the lab's parameters, or the user's own uploaded file loaded with
// safetensors (or numpy for an .npz) — the inputs and targets, the loss and backward; then every
// (layer, direction)'s ‖∂L/∂h_t‖ for t = 1…T, read from h_t.grad of the layers run step by step
// (the total derivative; a whole-sequence module's output gradient holds the path from above
// only), printed next to the lab's numbers with the largest relative difference.
//
// The script's text is built from POST /api/runs's answer with include "params" (`result`: the
// parameters under the lab's names, the inputs and targets; core/stack.py for the layout:
// W_x [D_in, G·H] = weight_ihᵀ, W_h = weight_hhᵀ, one bias b = bias_ih + bias_hh for the RNN and
// the LSTM, b_x, b_h for the GRU, the readout W_hy [dirs·H, O] = weightᵀ, b_y). Imports nothing,
// touches no DOM.

/** A Python literal of a nested array: outer rows on their own lines, null as nan. */
function literal(a, indent = "    ") {
  if (!Array.isArray(a)) return a === null ? "nan" : String(a);
  if (!Array.isArray(a[0])) return JSON.stringify(a).replace(/null/g, "nan");
  return `[\n${a.map((row) => indent + JSON.stringify(row).replace(/null/g, "nan")).join(",\n")},\n]`;
}

/** A Python string literal. */
const str = (s) => JSON.stringify(String(s));

const MODULE = { rnn: "RNN", lstm: "LSTM", gru: "GRU" };

/** Whether a model has biases, from the lab's parameter names (a network uploaded without
 * biases has none: its module is bias=False). */
const hasBias = (params) => Object.keys(params).some((k) => k === "b" || (k.startsWith("b_") && k !== "b_y"));

const PRELUDE = String.raw`import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
nan = float("nan")
HERE = Path(__file__).resolve().parent


def loss_fn(y):
    """The lab's loss of outputs y [T, B, O]: over the steps S (the last, or all), summed, and
    the mean over the batch; mse: ½‖y − y*‖², xent: −log softmax(y)[class]."""
    steps = slice(T - 1, T) if LOSS_AT == "last" else slice(0, T)
    if LOSS_KIND == "mse":
        return 0.5 * ((y[steps] - targets[steps]) ** 2).sum() / B
    return F.cross_entropy(y[steps].reshape(-1, y.shape[-1]), targets[steps].reshape(-1), reduction="sum") / B


def step(cell, nonlinearity, x_t, state, w_ih, w_hh, b_ih, b_hh):
    """One step of PyTorch's equations for nn.RNN / nn.LSTM / nn.GRU (rows: the batch)."""
    gi = x_t @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = state[0] @ w_hh.T + (0 if b_hh is None else b_hh)
    if cell == "rnn":
        phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda z: z}
        return (phi[nonlinearity](gi + gh),)
    if cell == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return (torch.sigmoid(o) * torch.tanh(c), c)
    r_i, z_i, n_i = gi.chunk(3, dim=1)
    r_h, z_h, n_h = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return ((1 - z) * n + z * state[0],)


def unrolled(rnn, head, cell, nonlinearity, x):
    """The module's layers run a step at a time with its own parameters, each h_t kept with
    retain_grad(): after backward, h_t.grad is the total ∂L/∂h_t (later steps and the layers
    above). Returns {(layer, direction): [h_1 … h_T]} and the outputs y [T, B, O]."""
    T, B, _ = x.shape
    dirs = 2 if rnn.bidirectional else 1
    hs, layer_input = {}, x
    for k in range(rnn.num_layers):
        outputs = []
        for direction, suffix in [("forward", ""), ("backward", "_reverse")][:dirs]:
            w = [getattr(rnn, f"{name}_l{k}{suffix}", None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            state = (torch.zeros(B, rnn.hidden_size),) * (2 if cell == "lstm" else 1)
            row = [None] * T
            for t in range(T) if direction == "forward" else reversed(range(T)):
                state = step(cell, nonlinearity, layer_input[t], state, *w)
                state[0].retain_grad()
                row[t] = state[0]
            hs[(k + 1, direction)] = row
            outputs.append(torch.stack(row))
        layer_input = torch.cat(outputs, dim=-1)
    return hs, head(layer_input)


def from_lab(rnn, head, P, cell):
    """Set the module's parameters from the lab's (core/stack.py): W_x [D_in, G·H] is
    weight_ihᵀ and W_h weight_hhᵀ; the RNN's and the LSTM's one bias b (b_h for the RNN) is
    bias_ih + bias_hh, the GRU keeps b_x = bias_ih, b_h = bias_hh; W_hy [dirs·H, O] is the
    head's weightᵀ. A one-layer, one-way model's names carry no suffix; others _l0, _l0_reverse, …"""
    names = {"rnn": ("W_xh", "W_hh", "b_h", None), "lstm": ("W_x", "W_h", "b", None),
             "gru": ("W_x", "W_h", "b_x", "b_h")}[cell]
    single = rnn.num_layers == 1 and not rnn.bidirectional
    with torch.no_grad():
        for k in range(rnn.num_layers):
            for suffix in ["", "_reverse"][:2 if rnn.bidirectional else 1]:
                lab = "" if single else f"_l{k}{suffix}"
                if names[0] + lab not in P:
                    continue  # the head alone
                getattr(rnn, f"weight_ih_l{k}{suffix}").copy_(torch.tensor(P[names[0] + lab]).T)
                getattr(rnn, f"weight_hh_l{k}{suffix}").copy_(torch.tensor(P[names[1] + lab]).T)
                if rnn.bias:
                    getattr(rnn, f"bias_ih_l{k}{suffix}").copy_(torch.tensor(P[names[2] + lab]))
                    hh = getattr(rnn, f"bias_hh_l{k}{suffix}")
                    hh.copy_(torch.tensor(P[names[3] + lab]) if names[3] else torch.zeros_like(hh))
        if "W_hy" in P:
            head.weight.copy_(torch.tensor(P["W_hy"]).T)
            head.bias.copy_(torch.tensor(P["b_y"]))


def from_file(rnn, head, path, prefix, head_prefix):
    """Your file's state_dict: the RNN's keys under prefix, the head's under head_prefix."""
    if path.suffix == ".npz":
        import numpy
        with numpy.load(path) as npz:  # no pickle
            state = {k: torch.from_numpy(npz[k]) for k in npz.files}
    else:
        from safetensors.torch import load_file
        state = load_file(path)
    own = rnn.state_dict()
    mine = {k[len(prefix):]: v.double() for k, v in state.items() if k.startswith(prefix) and k[len(prefix):] in own}
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("bias"):
                p.zero_()  # a bias the file leaves out is zero
    missing = rnn.load_state_dict(mine, strict=False).missing_keys
    assert not [k for k in missing if k.startswith("weight")], f"{path.name} lacks {missing}"
    if head_prefix is not None:
        head.load_state_dict({"weight": state[head_prefix + "weight"].double(),
                              "bias": state[head_prefix + "bias"].double()})
`;

const RUN = String.raw`

worst = 0.0
for i, (label, cell, nonlinearity, rnn, head) in enumerate(models):
    print(f"model {i}: {label}")
    # the module as PyTorch runs it: forward, the loss, backward (PyTorch has no sigmoid RNN:
    # its nn.RNN only holds the parameters, the steps below apply σ)
    if nonlinearity not in ("sigmoid", "linear"):
        out, _ = rnn(x)
        y_module = head(out)
        loss = loss_fn(y_module)
        loss.backward()
        norms = ", ".join(f"{name} {p.grad.norm().item():.4g}" for name, p in rnn.named_parameters())
        print(f"  loss = {loss.item():.17g}   ‖∂L/∂θ‖: {norms}")
    # the same layers a step at a time, for ∂L/∂h_t of every layer and direction
    hs, y = unrolled(rnn, head, cell, nonlinearity, x)
    if nonlinearity not in ("sigmoid", "linear"):
        assert torch.allclose(y, y_module, rtol=1e-10, atol=1e-12), "the steps differ from the module"
    loss = loss_fn(y)
    loss.backward()
    print(f"  loss = {loss.item():.17g}   (the lab: {LAB_NUMBERS[i]['loss']!r})")
    for (layer, direction), h in hs.items():
        norms = [0.0 if h_t.grad is None else h_t.grad.norm().item() for h_t in h]
        lab = LAB_NUMBERS[i]["grad_norm"][f"{layer} {direction}"]
        for a, b in zip(norms, lab):
            if b is not None:
                worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
        print(f"  layer {layer} {direction} ‖∂L/∂h_t‖ t=1..{T}: {json.dumps(norms)}")
print(f"largest relative difference from the lab's ‖∂L/∂h_t‖: {worst:.2e}")
`;

/**
 * The script's text.
 * @param config   the run's config (the `start` event's)
 * @param result   POST /api/runs's answer for that config with include ["params"]
 * @param networks (id) => {info: the API's description, name: the file's name} of an uploaded network
 * @param labels   the models' labels as the page writes them
 */
export function torchScript({ config, result, networks = () => null, labels = [] }) {
  const T = config.seq_len;
  const B = config.batch_size;
  const xent = config.loss.kind === "xent";
  const lines = [];
  const files = [];
  result.models.forEach((m, i) => {
    const entry = config.models[i] || {};
    const H = m.hidden_size ?? config.hidden_size;
    const dirs = m.bidirectional ? 2 : 1;
    const O = m.params.b_y.length;
    const label = labels[i] || m.label;
    const activation = m.activation || "tanh";
    const kw = [`input_size=${config.input_size}`, `hidden_size=${H}`, `num_layers=${m.num_layers}`];
    if (m.bidirectional) kw.push("bidirectional=True");
    if (m.cell === "rnn") kw.push(`nonlinearity=${str(activation === "relu" ? "relu" : "tanh")}`);
    if (!hasBias(m.params)) kw.push("bias=False");
    lines.push("", `# model ${i}: ${label}`);
    if (m.cell === "rnn" && !["tanh", "relu"].includes(activation)) {
      lines.push(`# (PyTorch's nn.RNN has tanh and relu only: this one holds the parameters, φ = ${activation} is applied in step())`);
    }
    lines.push(`rnn = torch.nn.${MODULE[m.cell]}(${kw.join(", ")})`, `head = torch.nn.Linear(${dirs * H}, ${O})`);
    const network = entry.weights ? networks(entry.weights) : null;
    if (entry.weights) {
      const info = network?.info ?? {};
      const ext = info.format === "npz" ? "npz" : "safetensors";
      const name = network?.name || `model.${ext}`;
      files.push(name);
      const headPrefix = info.head ? str(info.head_prefix ?? "") : "None";
      lines.push(`# your file (${entry.weights}): put it next to this script`);
      lines.push(`from_file(rnn, head, HERE / ${str(name)}, prefix=${str(info.prefix ?? "")}, head_prefix=${headPrefix})`);
      if (!info.head) {
        lines.push("# no head in the file: the lab's readout, drawn from the seed");
        lines.push(`from_lab(rnn, head, {"W_hy": ${literal(m.params.W_hy)}, "b_y": ${literal(m.params.b_y)}}, ${str(m.cell)})`);
      }
    } else {
      lines.push("# drawn from the seed by the lab: its parameters, as numbers");
      const entries = Object.entries(m.params).map(([k, v]) => `    ${str(k)}: ${literal(v, "        ")},`);
      lines.push(`from_lab(rnn, head, {\n${entries.join("\n")}\n}, ${str(m.cell)})`);
    }
    lines.push(`models.append((${str(label)}, ${str(m.cell)}, ${str(m.cell === "rnn" ? activation : "")}, rnn, head))`);
  });

  const numbers = result.models.map((m) => ({
    loss: m.loss,
    grad_norm: Object.fromEntries(m.layers.map((u) => [`${u.layer} ${u.direction}`, u.grad_norm])),
  }));
  const described = config.models.map((entry, i) => `    ${i}: ${labels[i] || result.models[i].label}`).join("\n");
  const lossWords = xent ? "softmax cross-entropy, −log softmax(y)[class]" : "squared error, ½‖y − y*‖²";
  const header = [
    "#!/usr/bin/env python3",
    `"""Gradient Flow Lab: a run rebuilt in PyTorch (float64), with the same ‖∂L/∂h_t‖.`,
    "",
    "Models:",
    described,
    `T = ${T} steps, batch ${B}, input size ${config.input_size}, seed ${config.seed}; loss: ${lossWords}`,
    `at ${config.loss.at === "all" ? "every step" : "the last step"}, the mean over the batch.`,
    "",
    "Run it with Python and PyTorch" + (files.length ? `, with your file next to it (${files.join(", ")}; safetensors installed)` : "") + ":",
    "    python this_script.py",
    "It prints each model's loss and, for every layer and direction, ‖∂L/∂h_t‖ for t = 1…T, and",
    "the largest relative difference from the lab's numbers (LAB_NUMBERS at the end).",
    `"""`,
  ].join("\n");
  const data = [
    "",
    `T, B = ${T}, ${B}`,
    `LOSS_KIND, LOSS_AT = ${str(config.loss.kind)}, ${str(config.loss.at)}`,
    `x = torch.tensor(${literal(result.inputs)}, dtype=torch.float64)  # the inputs [T, B, D]`,
    xent ? `targets = torch.tensor(${literal(result.targets)}, dtype=torch.long)  # class indices [T, B]`
      : `targets = torch.tensor(${literal(result.targets)}, dtype=torch.float64)  # the targets [T, B, O]`,
    "",
    "models = []  # (label, cell, nonlinearity, module, head)",
  ].join("\n");
  const lab = `\n\n# the lab's numbers of this run, to compare with\nLAB_NUMBERS = json.loads(${str(JSON.stringify(numbers))})\n`;
  return `${header}\n${PRELUDE}${data}\n${lines.join("\n")}\n${lab}${RUN}`;
}
