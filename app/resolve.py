"""From a validated request to the core's RunSpec: fill defaults, check the limits.

Every problem found here becomes a 422 whose message names the field and the limit.
"""

import numpy as np

from gradient_flow_lab.app.fields import FIELDS, PARAMS
from gradient_flow_lab.app.schemas import ModelConfig, RunRequest, TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.cells import CELL_TYPES
from gradient_flow_lab.core.init import InitSpec
from gradient_flow_lab.core.run import ModelSpec, RunSpec, memory_bytes, work_units
from gradient_flow_lab.core.train import TrainSpec, train_memory_bytes, train_work_units


def invalid(errors: list[tuple[tuple, str]]):
    """FastAPI's RequestValidationError (imported here only, so that resolving a request in the
    Python package loads no web framework until a request is refused)."""
    from fastapi.exceptions import RequestValidationError

    return RequestValidationError(
        [{"loc": ("body", *loc), "msg": msg, "type": "value_error"} for loc, msg in errors]
    )


def check_max(errors: list, loc: tuple, value: int, limit: int, name: str) -> None:
    if value > limit:
        errors.append((loc, f"must be at most {limit} (limit {name}), got {value}"))


def resolve_models(models: list[ModelConfig], settings: Settings, errors: list) -> list[ModelConfig]:
    """The models with rnn's default activation filled in; problems go to `errors`."""
    out = []
    for k, m in enumerate(models):
        if m.cell != "rnn" and m.activation is not None:
            errors.append((("models", k, "activation"),
                           f"activation applies to cell 'rnn' only, not {m.cell!r}; leave it out"))
        out.append(m.model_copy(update={"activation": m.activation or "tanh"}) if m.cell == "rnn" else m)
    check_max(errors, ("models",), len(out), settings.models_max, "models_max")
    return out


def check_memory(needed: float, settings: Settings, what: str) -> None:
    if needed > settings.memory_bytes_max:
        raise invalid([((), f"{what} needs about {needed / 1e9:.3g} GB of memory, over the limit "
                            f"memory_bytes_max = {settings.memory_bytes_max / 1e9:.3g} GB; shrink "
                            "seq_len, hidden_size or batch_size")])


def response_numbers(spec: RunSpec, include: set[str]) -> int:
    """How many numbers the answer to a run holds, from the sizes and `include`: every model's
    top-level arrays and, again, each of its units' in `layers`."""
    T, B, D, O = spec.seq_len, spec.batch_size, spec.input_size, spec.output_size
    total = T * B * (D + O) if PARAMS in include else 0
    for m in spec.models:
        H = model_hidden_size(m, spec)
        dirs = 2 if m.bidirectional else 1
        per_unit = T * sum(f.numbers_per_step(m.cell, H) for f in FIELDS if f.applies(m.cell, include))
        total += per_unit * (1 + m.num_layers * dirs)
        if PARAMS in include:
            G = CELL_TYPES[m.cell].gates
            total += dirs * G * H * (D + H + 2) + (m.num_layers - 1) * dirs * G * H * (dirs * H + H + 2)
            total += O * (dirs * H + 1)
    return total


def model_hidden_size(m: ModelSpec, spec: RunSpec) -> int:
    return spec.hidden_size if m.weights is None else int(m.weights["weight_hh_l0"].shape[1])


def resolve_run(req: RunRequest, settings: Settings, networks=lambda id_: None) -> tuple[RunSpec, dict]:
    """The core's RunSpec and the request with every default filled in (`config`).
    `networks(id)`: the parsed network of an uploaded file (`app.weights.Network`), or None."""
    errors: list[tuple[tuple, str]] = []
    kind = req.input.kind
    models = resolve_models(req.models, settings, errors)
    found = {}  # model index -> its Network, for the models from weights
    for k, m in enumerate(models):
        check_max(errors, ("models", k, "num_layers"), m.num_layers, settings.layers_max, "layers_max")
        if m.weights is None:
            continue
        network = networks(m.weights)
        if network is None:
            errors.append((("models", k, "weights"), f"no weights {m.weights} in the store; upload the "
                                                     "file again (POST /api/weights)"))
            continue
        found[k] = network
        d = network.description
        for field in ("cell", "num_layers", "bidirectional"):
            if field in m.model_fields_set and getattr(m, field) != d[field]:
                errors.append((("models", k, field), f"is {getattr(m, field)!r} but the weights have "
                                                     f"{d[field]!r}; leave it out"))
        asked = req.models[k].activation  # as sent (resolve_models gave rnn its default)
        if d["cell"] != "rnn" and asked is not None:
            errors.append((("models", k, "activation"), f"applies to rnn weights only, not {d['cell']!r}"))
        models[k] = m.model_copy(update={
            "cell": d["cell"], "num_layers": d["num_layers"], "bidirectional": d["bidirectional"],
            "activation": (asked or "tanh") if d["cell"] == "rnn" else None})

    seq_len, input_size, output_size = req.seq_len, req.input_size, req.output_size
    batch_size = req.batch_size
    values = None
    if kind == "values":
        if req.input.values is None:
            errors.append((("input", "values"),
                           "input kind 'values' needs input.values, a T×D or T×B×D array"))
        else:
            values = _array(req.input.values, ("input", "values"), errors)
            if values is not None:
                T, D = values.shape[0], values.shape[-1]
                B = values.shape[1] if values.ndim == 3 else 1
                for loc, given, actual in (("seq_len", seq_len, T), ("input_size", input_size, D)):
                    if given is not None and given != actual:
                        errors.append(((loc,), f"is {given} but input.values has {actual}"))
                if "batch_size" in req.model_fields_set and batch_size != B:
                    errors.append((("batch_size",), f"is {batch_size} but input.values has {B} "
                                                    "(a T×B×D array; T×D is batch 1)"))
                seq_len, input_size, batch_size = T, D, B
    elif req.input.values is not None:
        errors.append((("input", "values"), f"only for input kind 'values', not {kind!r}"))

    # the networks from weights fix the input size, and their heads the output size
    for k, network in found.items():
        d = network.description
        if input_size is None:
            input_size = d["input_size"]
        elif input_size != d["input_size"]:
            errors.append((("models", k, "weights"), f"the network reads input_size {d['input_size']}, "
                                                     f"but the run's inputs have {input_size}"))
        if d["head"]:
            if output_size is None:
                output_size = d["head"]["output_size"]
            elif output_size != d["head"]["output_size"]:
                errors.append((("models", k, "weights"),
                               f"the network's head has output_size {d['head']['output_size']}, "
                               f"the run {output_size}"))

    if kind == "adding":
        for loc, given, fixed in (("input_size", input_size, 2), ("output_size", output_size, 1)):
            if given is not None and given != fixed:
                errors.append(((loc,), f"the adding problem has {loc} {fixed}, got {given}"))
        input_size, output_size = 2, 1
    seq_len = 50 if seq_len is None else seq_len
    input_size = 4 if input_size is None else input_size
    output_size = 1 if output_size is None else output_size
    if kind == "adding" and seq_len < 2:
        errors.append((("seq_len",), "the adding problem needs seq_len >= 2"))
    loss_kind = req.loss.kind
    if loss_kind == "xent" and output_size < 2:
        errors.append((("output_size",), "softmax cross-entropy needs output_size >= 2 classes"))
    targets = _targets(req, loss_kind, seq_len, batch_size, output_size, errors)

    check_max(errors, ("seq_len",), seq_len, settings.seq_len_max, "seq_len_max")
    check_max(errors, ("hidden_size",), req.hidden_size, settings.hidden_size_max, "hidden_size_max")
    check_max(errors, ("input_size",), input_size, settings.input_size_max, "input_size_max")
    check_max(errors, ("output_size",), output_size, settings.output_size_max, "output_size_max")
    check_max(errors, ("batch_size",), batch_size, settings.batch_size_max, "batch_size_max")
    seeds = req.seeds or []
    if seeds and "seed" in req.model_fields_set:
        errors.append((("seeds",), "give either seed (one run) or seeds (the run at each), not both"))
    if len(set(seeds)) < len(seeds):
        errors.append((("seeds",), f"must be distinct, got {seeds}"))
    if errors:
        raise invalid(errors)

    spec = RunSpec(
        models=tuple(ModelSpec(m.cell, m.activation, m.num_layers, m.bidirectional,
                               weights=found[k].torch_state() if k in found else None)
                     for k, m in enumerate(models)),
        seq_len=seq_len, hidden_size=req.hidden_size, input_size=input_size,
        output_size=output_size, batch_size=batch_size, input_kind=kind, input_values=values,
        init=InitSpec(**req.init.model_dump()), loss_at=req.loss.at, seed=req.seed,
        jacobian="jacobian" in req.include and not seeds, loss_kind=loss_kind, targets=targets,
    )
    run_units, jac_units = work_units(spec)
    if seeds and len(seeds) * run_units > settings.work_units_max:
        raise invalid([(("seeds",), f"the run at {len(seeds)} seeds needs about {len(seeds) * run_units:.3g} "
                                    f"work units ({len(seeds)} × {run_units:.3g}), over the limit "
                                    f"work_units_max = {settings.work_units_max:.3g}; use fewer seeds "
                                    "or shrink the run")])
    if run_units > settings.work_units_max:
        raise invalid([((), f"the run needs about {run_units:.3g} work units, over the limit "
                            f"work_units_max = {settings.work_units_max:.3g}; shrink seq_len, "
                            "hidden_size, batch_size, the layers or the number of models")])
    if jac_units > settings.jacobian_work_units_max:
        raise invalid([(("include",), f"the Jacobian norms need about {jac_units:.3g} work units, "
                                      "over the limit jacobian_work_units_max = "
                                      f"{settings.jacobian_work_units_max:.3g}; drop 'jacobian' "
                                      "from include or shrink the run")])

    check_memory(memory_bytes(spec), settings, "the run")
    numbers = response_numbers(spec, set() if seeds else set(req.include))
    if numbers > settings.response_numbers_max:
        raise invalid([(("include",), f"the answer would hold about {numbers:.3g} numbers, over the "
                                      f"limit response_numbers_max = {settings.response_numbers_max:.3g}; "
                                      "include fewer arrays or shrink the run")])

    config = req.model_dump(exclude={name for name in ("targets", "seeds") if getattr(req, name) is None})
    config.update(models=[_model_config(m) for m in models], seq_len=seq_len, input_size=input_size,
                  output_size=output_size, batch_size=batch_size, include=list(dict.fromkeys(req.include)))
    if seeds:
        del config["seed"]
    return spec, config


def _model_config(m: ModelConfig) -> dict:
    """A model as the answer's config shows it: the fields of old, and the new ones where they
    are not their defaults (so that the config of a plain run reads as before)."""
    out = m.model_dump(include={"cell", "activation"})
    if m.num_layers != 1 or m.bidirectional:
        out.update(num_layers=m.num_layers, bidirectional=m.bidirectional)
    if m.weights is not None:
        out["weights"] = m.weights
    return out


def _array(rows, loc: tuple, errors: list) -> np.ndarray | None:
    """A nested list as a float64 array, or None with an error when it is ragged or empty."""
    try:
        a = np.asarray(rows, dtype=np.float64)
    except ValueError:
        errors.append((loc, "rows must all have the same length (a rectangular array)"))
        return None
    if a.size == 0 or a.ndim not in (2, 3):
        errors.append((loc, "must be a non-empty T×D or T×B×D array"))
        return None
    return a


def _targets(req: RunRequest, loss_kind: str, T: int, B: int, O: int, errors: list) -> np.ndarray | None:
    """The request's targets as the core takes them ([T, B, O] values or [T, B] classes)."""
    if req.targets is None:
        return None
    values, classes = req.targets.values, req.targets.classes
    if (values is None) == (classes is None):
        errors.append((("targets",), "give exactly one of targets.values (loss kind 'mse') and "
                                     "targets.classes (loss kind 'xent')"))
        return None
    if classes is not None:
        if loss_kind != "xent":
            errors.append((("targets", "classes"), "class targets go with loss.kind 'xent'"))
            return None
        try:
            c = np.asarray(classes, dtype=np.int64)
        except ValueError:
            errors.append((("targets", "classes"), "must be a T or T×B array of class indices"))
            return None
        c = c[:, None] if c.ndim == 1 else c
        if c.shape != (T, B):
            errors.append((("targets", "classes"), f"has shape {list(c.shape)}, the run needs {[T, B]}"))
            return None
        if c.size and c.max() >= O:
            errors.append((("targets", "classes"),
                           f"class {int(c.max())} is not in 0…{O - 1} (output_size {O})"))
            return None
        return c
    if loss_kind != "mse":
        errors.append((("targets", "values"), "value targets go with loss.kind 'mse'"))
        return None
    v = _array(values, ("targets", "values"), errors)
    if v is None:
        return None
    v = v[:, None, :] if v.ndim == 2 else v
    if v.shape != (T, B, O):
        errors.append((("targets", "values"), f"has shape {list(v.shape)}, the run needs {[T, B, O]} "
                                              "(T×O for batch 1)"))
        return None
    return v


def resolve_train(req: TrainRequest, settings: Settings) -> tuple[TrainSpec, dict]:
    """The core's TrainSpec and the request with every default filled in (`config`)."""
    errors: list[tuple[tuple, str]] = []
    models = resolve_models(req.models, settings, errors)
    check_max(errors, ("seq_len",), req.seq_len, settings.seq_len_max, "seq_len_max")
    check_max(errors, ("hidden_size",), req.hidden_size, settings.hidden_size_max, "hidden_size_max")
    check_max(errors, ("batch_size",), req.batch_size, settings.batch_size_max, "batch_size_max")
    check_max(errors, ("steps",), req.steps, settings.steps_max, "steps_max")
    check_max(errors, ("eval_size",), req.eval_size, settings.eval_size_max, "eval_size_max")
    if req.task == "temporal_order" and req.seq_len < 10:
        errors.append((("seq_len",), "temporal_order needs seq_len >= 10"))
    if req.task == "adding" and req.seq_len < 2:
        errors.append((("seq_len",), "the adding problem needs seq_len >= 2"))
    if req.optimizer.name != "sgd" and req.optimizer.momentum:
        errors.append((("optimizer", "momentum"), "momentum applies to optimizer 'sgd' only"))
    if errors:
        raise invalid(errors)
    spec = TrainSpec(
        models=tuple(ModelSpec(m.cell, m.activation) for m in models),
        task=req.task, seq_len=req.seq_len, hidden_size=req.hidden_size, batch_size=req.batch_size,
        optimizer=req.optimizer.name, lr=req.optimizer.lr, momentum=req.optimizer.momentum,
        clip=req.clip, steps=req.steps, eval_every=req.eval_every, eval_size=req.eval_size,
        seed=req.seed, init=InitSpec(**req.init.model_dump()),
    )
    check_memory(train_memory_bytes(spec), settings, "the training")
    units = train_work_units(spec)
    if units > settings.train_work_units_max:
        raise invalid([((), f"the training needs about {units:.3g} work units, over the limit "
                            f"train_work_units_max = {settings.train_work_units_max:.3g}; reduce "
                            "steps, batch_size, seq_len, hidden_size, eval_size or the models")])
    config = req.model_dump()
    config["models"] = [m.model_dump() for m in models]
    return spec, config
