"""From a validated request to the core's RunSpec: fill defaults, check the limits.

Every problem found here becomes a 422 whose message names the field and the limit.
"""

import numpy as np
from fastapi.exceptions import RequestValidationError

from app.fields import FIELDS, PARAMS
from app.schemas import ModelConfig, RunRequest, TrainRequest
from app.settings import Settings
from core.cells import CELL_TYPES
from core.init import InitSpec
from core.run import ModelSpec, RunSpec, memory_bytes, work_units
from core.train import TrainSpec, train_memory_bytes, train_work_units


def invalid(errors: list[tuple[tuple, str]]) -> RequestValidationError:
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
    """How many numbers the answer to a run holds, from the sizes and `include`."""
    T, B, D, H, O = spec.seq_len, spec.batch_size, spec.input_size, spec.hidden_size, spec.output_size
    total = T * B * (D + O) if PARAMS in include else 0
    for m in spec.models:
        total += T * sum(f.numbers_per_step(m.cell, H) for f in FIELDS if f.applies(m.cell, include))
        if PARAMS in include:
            total += CELL_TYPES[m.cell].gates * H * (D + H + 2) + O * (H + 1)
    return total


def resolve_run(req: RunRequest, settings: Settings) -> tuple[RunSpec, dict]:
    """The core's RunSpec and the request with every default filled in (`config`)."""
    errors: list[tuple[tuple, str]] = []
    kind = req.input.kind
    models = resolve_models(req.models, settings, errors)

    seq_len, input_size, output_size = req.seq_len, req.input_size, req.output_size
    values = None
    if kind == "values":
        if req.input.values is None:
            errors.append((("input", "values"), "input kind 'values' needs input.values, a T×D array"))
        else:
            rows = req.input.values
            widths = {len(r) for r in rows}
            if not rows or widths == {0}:
                errors.append((("input", "values"), "must be a non-empty T×D array"))
            elif len(widths) > 1:
                errors.append((("input", "values"),
                               f"rows must all have the same length (found lengths {sorted(widths)})"))
            else:
                values = np.asarray(rows, dtype=np.float64)
                T, D = values.shape
                for loc, given, actual in (("seq_len", seq_len, T), ("input_size", input_size, D)):
                    if given is not None and given != actual:
                        errors.append(((loc,), f"is {given} but input.values has {actual}"))
                seq_len, input_size = T, D
                if req.batch_size != 1:
                    errors.append((("batch_size",), "must be 1 with input kind 'values'"))
    elif req.input.values is not None:
        errors.append((("input", "values"), f"only for input kind 'values', not {kind!r}"))

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

    check_max(errors, ("seq_len",), seq_len, settings.seq_len_max, "seq_len_max")
    check_max(errors, ("hidden_size",), req.hidden_size, settings.hidden_size_max, "hidden_size_max")
    check_max(errors, ("input_size",), input_size, settings.input_size_max, "input_size_max")
    check_max(errors, ("output_size",), output_size, settings.output_size_max, "output_size_max")
    check_max(errors, ("batch_size",), req.batch_size, settings.batch_size_max, "batch_size_max")
    if errors:
        raise invalid(errors)

    spec = RunSpec(
        models=tuple(ModelSpec(m.cell, m.activation) for m in models),
        seq_len=seq_len, hidden_size=req.hidden_size, input_size=input_size,
        output_size=output_size, batch_size=req.batch_size, input_kind=kind, input_values=values,
        init=InitSpec(**req.init.model_dump()), loss_at=req.loss.at, seed=req.seed,
        jacobian="jacobian" in req.include,
    )
    run_units, jac_units = work_units(spec)
    if run_units > settings.work_units_max:
        raise invalid([((), f"the run needs about {run_units:.3g} work units, over the limit "
                            f"work_units_max = {settings.work_units_max:.3g}; shrink seq_len, "
                            "hidden_size, batch_size or the number of models")])
    if jac_units > settings.jacobian_work_units_max:
        raise invalid([(("include",), f"the Jacobian norms need about {jac_units:.3g} work units, "
                                      "over the limit jacobian_work_units_max = "
                                      f"{settings.jacobian_work_units_max:.3g}; drop 'jacobian' "
                                      "from include or shrink the run")])

    check_memory(memory_bytes(spec), settings, "the run")
    numbers = response_numbers(spec, set(req.include))
    if numbers > settings.response_numbers_max:
        raise invalid([(("include",), f"the answer would hold about {numbers:.3g} numbers, over the "
                                      f"limit response_numbers_max = {settings.response_numbers_max:.3g}; "
                                      "include fewer arrays or shrink the run")])

    config = req.model_dump()
    config.update(models=[m.model_dump() for m in models], seq_len=seq_len, input_size=input_size,
                  output_size=output_size, include=list(dict.fromkeys(req.include)))
    return spec, config


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
