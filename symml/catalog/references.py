"""The framework functions a ``matches`` claim can name, imported only when a claim runs.

A function reference is called with the claim's mapped arguments as float64 NumPy values and
returns an array. An optimizer reference runs ``steps`` steps from weights ``w0``, asking
``gradient(w, k)`` for the gradient at step ``k`` (1-based), and returns the weights after
every step (row 0 is ``w0``). Adding a reference is one entry in ``REFERENCES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FUNCTION, OPTIMIZER = "function", "optimizer"
HEADS = 2  # the multi-head references split the projections into this many heads
Gradient = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Reference:
    name: str
    framework: str
    kind: str  # FUNCTION or OPTIMIZER
    load: Callable[[], Callable[..., Any]]


# -- jax and optax -----------------------------------------------------------------------------
def _jax_function(body: Callable[[Any, Any], Callable[..., Any]]) -> Callable[[], Callable]:
    """``body(jax, optax_or_None)`` gives the function; it runs in float64."""

    def load() -> Callable[..., Any]:
        import jax

        try:
            import optax
        except ImportError:  # the jax references do not need it
            optax = None

        def call(**kwargs: Any) -> np.ndarray:
            with jax.enable_x64(True):
                args = {k: _jax_value(jax, v) for k, v in kwargs.items()}
                return np.asarray(body(jax, optax)(**args), dtype=np.float64)

        return call

    return load


def _jax_value(jax: Any, value: Any) -> Any:
    if isinstance(value, (bool, str)):
        return value
    return jax.numpy.asarray(value, dtype=jax.numpy.float64)


def _optax_optimizer(make: Callable[..., Any]) -> Callable[[], Callable]:
    def load() -> Callable[..., Any]:
        import jax
        import optax

        def run(hyper: Mapping[str, Any], w0: np.ndarray, gradient: Gradient, steps: int):
            with jax.enable_x64(True):
                optimizer = make(optax, **hyper)
                params = jax.numpy.asarray(w0, dtype=jax.numpy.float64)
                state = optimizer.init(params)
                trail = [np.asarray(params)]
                for k in range(1, steps + 1):
                    grads = jax.numpy.asarray(gradient(np.asarray(params), k))
                    updates, state = optimizer.update(grads, state, params)
                    params = optax.apply_updates(params, updates)
                    trail.append(np.asarray(params))
            return np.stack(trail)

        return run

    return load


def _jax_conv_width(jax: Any, width: Any, kernel: Any, padding: Any, stride: Any) -> Any:
    """The output width of a 1-D convolution, read off the array jax computes."""
    w, k, p, s = (int(round(float(v))) for v in (width, kernel, padding, stride))
    out = jax.lax.conv_general_dilated(
        jax.numpy.ones((1, 1, w)), jax.numpy.ones((1, 1, k)), (s,), [(p, p)]
    )
    return jax.numpy.asarray(out.shape[-1], dtype=jax.numpy.float64)


def _warmup_then_linear(optax: Any, eta_max: Any, t_warmup: Any, t_total: Any) -> Any:
    return optax.join_schedules(
        [
            optax.linear_schedule(0.0, eta_max, t_warmup),
            optax.linear_schedule(eta_max, 0.0, t_total - t_warmup),
        ],
        [t_warmup],
    )


# -- torch ---------------------------------------------------------------------------------------
def _torch_function(body: Callable[[Any], Callable[..., Any]]) -> Callable[[], Callable]:
    def load() -> Callable[..., Any]:
        import torch

        def call(**kwargs: Any) -> np.ndarray:
            args = {
                k: v if isinstance(v, (bool, str)) else torch.as_tensor(v, dtype=torch.float64)
                for k, v in kwargs.items()
            }
            with torch.no_grad():
                return np.asarray(body(torch)(**args).numpy(), dtype=np.float64)

        return call

    return load


def _torch_conv_width(width: Any, kernel: Any, padding: Any, stride: Any) -> Any:
    import torch

    w, k, p, s = (int(round(float(v))) for v in (width, kernel, padding, stride))
    out = torch.nn.functional.conv1d(
        torch.ones((1, 1, w), dtype=torch.float64),
        torch.ones((1, 1, k), dtype=torch.float64),
        stride=s,
        padding=p,
    )
    return torch.tensor(float(out.shape[-1]), dtype=torch.float64)


def _cell(kind: str, x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any = None) -> Any:
    """One step of a torch.nn recurrent cell with the given weights (``b_hh`` = 0)."""
    import torch

    cell = getattr(torch.nn, kind)(x.shape[0], h.shape[0], bias=b_ih is not None)
    cell = cell.to(torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(w_ih)
        cell.weight_hh.copy_(w_hh)
        if b_ih is not None:
            cell.bias_ih.copy_(b_ih)
            cell.bias_hh.zero_()
        return cell(x[None], h[None])[0]


def _split(weights: Any, hidden: int) -> tuple[Any, Any]:
    """A sheet weight W acting on [h, x]: its columns for h, then those for x."""
    return weights[:, :hidden], weights[:, hidden:]


def _rnn_cell(x: Any, h: Any, W_xh: Any, W_hh: Any, b_h: Any) -> Any:
    return _cell("RNNCell", x, h, W_xh, W_hh, b_h)


def _lstm_cell(x: Any, h: Any, c: Any, W_i: Any, W_f: Any, W_c: Any, W_o: Any, b: Any) -> Any:
    """torch orders the gates input, forget, cell, output; returns the new hidden state."""
    import torch

    n = h.shape[0]
    gates = [_split(w, n) for w in (W_i, W_f, W_c, W_o)]
    cell = torch.nn.LSTMCell(x.shape[0], n).to(torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([g[1] for g in gates]))
        cell.weight_hh.copy_(torch.cat([g[0] for g in gates]))
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        return cell(x[None], (h[None], c[None]))[0][0]


def _gru_cell(x: Any, h: Any, W_r: Any, W_z: Any, W: Any) -> Any:
    """torch orders the gates reset, update, new (no biases here, as on the sheet)."""
    import torch

    n = h.shape[0]
    parts = [_split(w, n) for w in (W_r, W_z, W)]
    return _cell(
        "GRUCell",
        x,
        h,
        torch.cat([p[1] for p in parts]),
        torch.cat([p[0] for p in parts]),
    )


def _torch_relu_slope(input: Any) -> Any:
    import torch

    with torch.enable_grad():
        x = input.clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(torch.relu(x), x)
    return slope


def _kept_unit(input: Any, p: Any) -> Any:
    """What training-mode dropout makes of an activation it keeps (0 if it keeps none)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(4096, generator=generator, dtype=torch.float64) >= 0  # all ones
    out = torch.nn.functional.dropout(input * mask.to(torch.float64), p=float(p), training=True)
    kept = out[out != 0]
    return kept[0] if kept.numel() else torch.zeros((), dtype=torch.float64)


def _torch_schedule(kind: str, last_epoch: Any, lr: Any, **options: Any) -> Any:
    """The learning rate a torch.optim.lr_scheduler sets after ``last_epoch`` calls of
    ``scheduler.step()`` (an integer: torch's schedulers count calls, not a real t)."""
    import torch

    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=float(lr))
    scheduler = getattr(torch.optim.lr_scheduler, kind)(
        optimizer, **{k: _plain(v) for k, v in options.items()}
    )
    for _ in range(int(round(float(last_epoch)))):
        optimizer.step()
        scheduler.step()
    return torch.tensor(optimizer.param_groups[0]["lr"], dtype=torch.float64)


def _plain(value: Any) -> Any:
    """A scheduler's option as Python wants it: an int where it is whole, else a float."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _torch_multihead(query: Any, key: Any, value: Any, W_Q: Any, W_K: Any, W_V: Any, W_O: Any):
    """torch's multi-head attention with the sheet's weights (row vectors, x·W) and no biases:
    torch computes x·Wᵀ, so its in_proj_weight stacks W_Qᵀ, W_Kᵀ, W_Vᵀ and its out_proj is
    W_Oᵀ; head i takes columns (i−1)·dₖ+1 … i·dₖ of each projection, as the sheet's heads."""
    import torch

    out, _ = torch.nn.functional.multi_head_attention_forward(
        query[:, None, :],
        key[:, None, :],
        value[:, None, :],
        W_O.shape[1],
        HEADS,
        torch.cat([W_Q.T, W_K.T, W_V.T]),
        None,
        None,
        None,
        False,
        0.0,
        W_O.T,
        None,
        training=False,
        need_weights=False,
    )
    return out[:, 0, :]


def _torch_encoder_layer(
    src: Any,
    W_Q: Any,
    W_K: Any,
    W_V: Any,
    W_O: Any,
    W_1: Any,
    b_1: Any,
    W_2: Any,
    b_2: Any,
    gamma_1: Any,
    beta_1: Any,
    gamma_2: Any,
    beta_2: Any,
    eps: Any,
) -> Any:
    """nn.TransformerEncoderLayer(norm_first=False, dropout=0, relu) over one sequence (rows of
    ``src``), in eval mode, with the sheet's weights: its self-attention as in
    ``_torch_multihead`` (in_proj_weight stacks W_Qᵀ, W_Kᵀ, W_Vᵀ, out_proj is W_Oᵀ, their biases
    0), linear1/linear2 are W₁ᵀ, b₁ and W₂ᵀ, b₂ (nn.Linear computes x·Wᵀ + b), norm1/norm2 are
    (γ₁, β₁) and (γ₂, β₂) with layer_norm_eps = ε."""
    import torch

    layer = torch.nn.TransformerEncoderLayer(
        src.shape[1],
        HEADS,
        W_1.shape[1],
        dropout=0.0,
        activation="relu",
        layer_norm_eps=float(eps),
        batch_first=True,
        norm_first=False,
        dtype=torch.float64,
    )
    layer.eval()
    attention = layer.self_attn
    with torch.no_grad():
        attention.in_proj_weight.copy_(torch.cat([W_Q.T, W_K.T, W_V.T]))
        attention.in_proj_bias.zero_()
        attention.out_proj.weight.copy_(W_O.T)
        attention.out_proj.bias.zero_()
        for linear, weight, bias in ((layer.linear1, W_1, b_1), (layer.linear2, W_2, b_2)):
            linear.weight.copy_(weight.T)
            linear.bias.copy_(bias.reshape(-1))
        for norm, gain, shift in ((layer.norm1, gamma_1, beta_1), (layer.norm2, gamma_2, beta_2)):
            norm.weight.copy_(gain.reshape(-1))
            norm.bias.copy_(shift.reshape(-1))
    # one thread for a 3 × 4 sequence: on a busy machine torch's intra-op threads wait for
    # each other (10–60 ms a call against 0.5 ms), and there is nothing this small to split
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return layer(src[None])[0]
    finally:
        torch.set_num_threads(threads)


def _jax_multihead(jax: Any, query: Any, key: Any, value: Any, W_Q: Any, W_K: Any, W_V: Any, W_O):
    """jax.nn.dot_product_attention over h = ``HEADS`` heads of the projected inputs (jax.nn has the
    attention of each head; the projections and the concatenation are matrix products)."""

    def split(x: Any) -> Any:
        return x.reshape(1, x.shape[0], HEADS, x.shape[1] // HEADS)

    out = jax.nn.dot_product_attention(split(query @ W_Q), split(key @ W_K), split(value @ W_V))
    return out.reshape(query.shape[0], -1) @ W_O


def _torch_optimizer(make: Callable[..., Any]) -> Callable[[], Callable]:
    def load() -> Callable[..., Any]:
        import torch

        def run(hyper: Mapping[str, Any], w0: np.ndarray, gradient: Gradient, steps: int):
            params = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
            optimizer = make(torch, [params], **hyper)
            trail = [params.detach().numpy().copy()]
            for k in range(1, steps + 1):
                grad = gradient(params.detach().numpy().copy(), k)
                params.grad = torch.as_tensor(grad, dtype=torch.float64)
                optimizer.step()
                trail.append(params.detach().numpy().copy())
            return np.stack(trail)

        return run

    return load


def _ref(name: str, framework: str, kind: str, load: Callable[[], Callable]) -> Reference:
    return Reference(name, framework, kind, load)


REFERENCES: Mapping[str, Reference] = {
    r.name: r
    for r in (
        # activations (jax)
        _ref("jax.nn.sigmoid", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.sigmoid)),
        _ref(
            "jax.numpy.tanh", "jax", FUNCTION, _jax_function(lambda j, o: lambda x: j.numpy.tanh(x))
        ),
        _ref("jax.nn.relu", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.relu)),
        _ref("jax.nn.leaky_relu", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.leaky_relu)),
        _ref("jax.nn.gelu", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.gelu)),
        _ref("jax.nn.softmax", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.softmax)),
        _ref("jax.nn.standardize", "jax", FUNCTION, _jax_function(lambda j, o: j.nn.standardize)),
        _ref(
            "jax.numpy.convolve",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: j.numpy.convolve),
        ),
        _ref(
            "jax.scipy.signal.convolve2d",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: j.scipy.signal.convolve2d),
        ),
        _ref(
            "jax.lax.conv_general_dilated (output width)",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda **a: _jax_conv_width(j, **a)),
        ),
        _ref(
            "jax.nn.dot_product_attention",
            "jax",
            FUNCTION,
            _jax_function(
                lambda j, o: (
                    lambda query, key, value: j.nn.dot_product_attention(
                        query[:, None, :], key[:, None, :], value[:, None, :]
                    )[:, 0, :]
                )
            ),
        ),
        _ref(
            "jax.nn.dot_product_attention (2 heads)",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda **a: _jax_multihead(j, **a)),
        ),
        _ref(
            "jax.numpy.max",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda a: j.numpy.max(a)),
        ),
        _ref(
            "sum of jax.scipy.special.entr",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda x: j.scipy.special.entr(x).sum()),
        ),
        # derivatives by autodiff
        _ref(
            "jax.grad(jax.nn.sigmoid)",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda x: j.grad(j.nn.sigmoid)(x)),
        ),
        _ref(
            "jax.grad(jax.numpy.tanh)",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda x: j.grad(j.numpy.tanh)(x)),
        ),
        _ref(
            "jax.grad(jax.nn.relu)",
            "jax",
            FUNCTION,
            _jax_function(lambda j, o: lambda x: j.grad(j.nn.relu)(x)),
        ),
        _ref(
            "jax.grad of the mean of optax.squared_error",
            "optax",
            FUNCTION,
            _jax_function(
                lambda j, o: (
                    lambda predictions, targets: j.grad(
                        lambda p: o.squared_error(p, targets).mean()
                    )(predictions)
                )
            ),
        ),
        _ref(
            "jax.grad of optax.sigmoid_binary_cross_entropy in ŷ",
            "optax",
            FUNCTION,
            _jax_function(
                lambda j, o: (
                    lambda probability, labels: j.grad(
                        lambda p: o.sigmoid_binary_cross_entropy(j.numpy.log(p / (1 - p)), labels)
                    )(probability)
                )
            ),
        ),
        _ref(
            "jax.grad of optax.softmax_cross_entropy in the logits",
            "optax",
            FUNCTION,
            _jax_function(
                lambda j, o: (
                    lambda logits, labels: j.grad(lambda z: o.softmax_cross_entropy(z, labels))(
                        logits
                    )
                )
            ),
        ),
        # losses (optax)
        _ref(
            "mean of optax.squared_error",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: lambda **a: o.squared_error(**a).mean()),
        ),
        _ref("optax.l2_loss", "optax", FUNCTION, _jax_function(lambda j, o: o.l2_loss)),
        _ref("optax.huber_loss", "optax", FUNCTION, _jax_function(lambda j, o: o.huber_loss)),
        _ref(
            "optax.sigmoid_binary_cross_entropy",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: o.sigmoid_binary_cross_entropy),
        ),
        _ref(
            "optax.softmax_cross_entropy",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: o.softmax_cross_entropy),
        ),
        _ref(
            "optax.sigmoid_focal_loss",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: o.sigmoid_focal_loss),
        ),
        _ref("optax.hinge_loss", "optax", FUNCTION, _jax_function(lambda j, o: o.hinge_loss)),
        _ref(
            "optax.kl_divergence",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: o.kl_divergence),
        ),
        _ref(
            "optax.losses.triplet_margin_loss",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: o.losses.triplet_margin_loss),
        ),
        # schedules (optax), called at step `count`
        _ref(
            "optax.exponential_decay",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: lambda count, **a: o.exponential_decay(**a)(count)),
        ),
        _ref(
            "optax.cosine_decay_schedule",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: lambda count, **a: o.cosine_decay_schedule(**a)(count)),
        ),
        _ref(
            "optax.join_schedules(linear warmup, linear decay)",
            "optax",
            FUNCTION,
            _jax_function(lambda j, o: lambda count, **a: _warmup_then_linear(o, **a)(count)),
        ),
        # optimizers (optax)
        _ref("optax.sgd", "optax", OPTIMIZER, _optax_optimizer(lambda o, **h: o.sgd(**h))),
        _ref(
            "optax.sgd(momentum)",
            "optax",
            OPTIMIZER,
            _optax_optimizer(lambda o, **h: o.sgd(**h)),
        ),
        _ref(
            "optax.sgd(nesterov=True)",
            "optax",
            OPTIMIZER,
            _optax_optimizer(lambda o, **h: o.sgd(nesterov=True, **h)),
        ),
        _ref("optax.adagrad", "optax", OPTIMIZER, _optax_optimizer(lambda o, **h: o.adagrad(**h))),
        _ref("optax.rmsprop", "optax", OPTIMIZER, _optax_optimizer(lambda o, **h: o.rmsprop(**h))),
        _ref("optax.adam", "optax", OPTIMIZER, _optax_optimizer(lambda o, **h: o.adam(**h))),
        _ref("optax.adamw", "optax", OPTIMIZER, _optax_optimizer(lambda o, **h: o.adamw(**h))),
        # torch.nn.functional
        _ref("torch.sigmoid", "torch", FUNCTION, _torch_function(lambda t: t.sigmoid)),
        _ref("torch.tanh", "torch", FUNCTION, _torch_function(lambda t: t.tanh)),
        _ref("torch.relu", "torch", FUNCTION, _torch_function(lambda t: t.relu)),
        _ref(
            "torch.autograd of torch.relu",
            "torch",
            FUNCTION,
            _torch_function(lambda t: _torch_relu_slope),
        ),
        _ref(
            "torch.nn.functional.leaky_relu",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, negative_slope: t.nn.functional.leaky_relu(
                        input, float(negative_slope)
                    )
                )
            ),
        ),
        _ref(
            "torch.nn.functional.gelu",
            "torch",
            FUNCTION,
            _torch_function(lambda t: t.nn.functional.gelu),
        ),
        _ref(
            "torch.softmax",
            "torch",
            FUNCTION,
            _torch_function(lambda t: lambda input: t.softmax(input, dim=-1)),
        ),
        _ref(
            "torch.nn.functional.dropout (a kept unit)",
            "torch",
            FUNCTION,
            _torch_function(lambda t: _kept_unit),
        ),
        _ref(
            "torch.nn.functional.conv2d (full padding)",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, weight: t.nn.functional.conv2d(
                        input[None, None],
                        weight[None, None],
                        padding=(weight.shape[0] - 1, weight.shape[1] - 1),
                    )[0, 0]
                )
            ),
        ),
        _ref(
            "torch.nn.functional.conv1d (output width)",
            "torch",
            FUNCTION,
            _torch_function(lambda t: _torch_conv_width),
        ),
        _ref(
            "torch.nn.functional.scaled_dot_product_attention",
            "torch",
            FUNCTION,
            _torch_function(lambda t: t.nn.functional.scaled_dot_product_attention),
        ),
        _ref(
            "torch.nn.functional.layer_norm (with weight and bias)",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, weight, bias, eps: t.nn.functional.layer_norm(
                        input,
                        tuple(input.shape[-1:]),
                        weight.reshape(-1),
                        bias.reshape(-1),
                        eps=float(eps),
                    )
                )
            ),
        ),
        _ref(
            "torch.nn.functional.triplet_margin_loss",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda anchor, positive, negative, margin: t.nn.functional.triplet_margin_loss(
                        anchor[None], positive[None], negative[None], margin=float(margin)
                    )
                )
            ),
        ),
        _ref("torch.nn.RNNCell", "torch", FUNCTION, _torch_function(lambda t: _rnn_cell)),
        _ref("torch.nn.LSTMCell", "torch", FUNCTION, _torch_function(lambda t: _lstm_cell)),
        _ref("torch.nn.GRUCell", "torch", FUNCTION, _torch_function(lambda t: _gru_cell)),
        _ref(
            "torch.nn.functional.batch_norm (training)",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, eps: t.nn.functional.batch_norm(
                        input[:, None], None, None, training=True, eps=float(eps)
                    )[:, 0]
                )
            ),
        ),
        _ref(
            "torch.nn.functional.avg_pool1d",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input: t.nn.functional.avg_pool1d(input[None, None], input.shape[0])[
                        0, 0
                    ]
                )
            ),
        ),
        _ref(
            "torch.nn.functional.layer_norm",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, eps: t.nn.functional.layer_norm(
                        input, tuple(input.shape), eps=float(eps)
                    )
                )
            ),
        ),
        _ref(
            "torch.nn.functional.mse_loss",
            "torch",
            FUNCTION,
            _torch_function(lambda t: t.nn.functional.mse_loss),
        ),
        _ref(
            "torch.nn.functional.l1_loss",
            "torch",
            FUNCTION,
            _torch_function(lambda t: t.nn.functional.l1_loss),
        ),
        _ref(
            "torch.nn.functional.huber_loss",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, target, delta: t.nn.functional.huber_loss(
                        input, target, delta=float(delta)
                    )
                )
            ),
        ),
        _ref(
            "torch.nn.functional.binary_cross_entropy",
            "torch",
            FUNCTION,
            _torch_function(lambda t: t.nn.functional.binary_cross_entropy),
        ),
        _ref(
            "torch.nn.functional.multi_head_attention_forward (2 heads)",
            "torch",
            FUNCTION,
            _torch_function(lambda t: _torch_multihead),
        ),
        _ref(
            "torch.nn.TransformerEncoderLayer (post-LN, 2 heads)",
            "torch",
            FUNCTION,
            _torch_function(lambda t: _torch_encoder_layer),
        ),
        _ref(
            "torch.nn.functional.max_pool1d",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input: t.nn.functional.max_pool1d(input[None, None], input.shape[0])[
                        0, 0, 0
                    ]
                )
            ),
        ),
        _ref(
            "torch.nn.functional.cross_entropy (probability targets)",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, target: t.nn.functional.cross_entropy(input[None], target[None])
                )
            ),
        ),
        _ref(
            "torch.nn.functional.kl_div (reduction='sum')",
            "torch",
            FUNCTION,
            _torch_function(
                lambda t: (
                    lambda input, target: t.nn.functional.kl_div(input, target, reduction="sum")
                )
            ),
        ),
        _ref(
            "sum of torch.special.entr",
            "torch",
            FUNCTION,
            _torch_function(lambda t: lambda input: t.special.entr(input).sum()),
        ),
        # torch.optim.lr_scheduler, after `last_epoch` calls of scheduler.step()
        _ref(
            "torch.optim.lr_scheduler.StepLR",
            "torch",
            FUNCTION,
            _torch_function(lambda t: lambda **a: _torch_schedule("StepLR", **a)),
        ),
        _ref(
            "torch.optim.lr_scheduler.ExponentialLR",
            "torch",
            FUNCTION,
            _torch_function(lambda t: lambda **a: _torch_schedule("ExponentialLR", **a)),
        ),
        _ref(
            "torch.optim.lr_scheduler.CosineAnnealingLR",
            "torch",
            FUNCTION,
            _torch_function(lambda t: lambda **a: _torch_schedule("CosineAnnealingLR", **a)),
        ),
        # torch.optim
        _ref(
            "torch.optim.SGD",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.SGD(p, **h)),
        ),
        _ref(
            "torch.optim.SGD(momentum)",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.SGD(p, **h)),
        ),
        _ref(
            "torch.optim.SGD(nesterov=True)",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.SGD(p, nesterov=True, **h)),
        ),
        _ref(
            "torch.optim.Adagrad",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.Adagrad(p, **h)),
        ),
        _ref(
            "torch.optim.RMSprop",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.RMSprop(p, **h)),
        ),
        _ref(
            "torch.optim.Adam",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.Adam(p, **h)),
        ),
        _ref(
            "torch.optim.AdamW",
            "torch",
            OPTIMIZER,
            _torch_optimizer(lambda t, p, **h: t.optim.AdamW(p, **h)),
        ),
    )
}
