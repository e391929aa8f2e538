import numpy as np, torch, traceback
import autograd_lite as al
from autograd_lite import nn, optim
rng = np.random.default_rng(0)
fails = []
def check(label, fn):
    try:
        r = fn()
        if r is False: fails.append((label, "returned False"))
    except Exception as e:
        fails.append((label, f"{type(e).__name__}: {e}"[:200]))

def cmp_unary(name, tname=None, dom=(0.2, 0.8), **kw):
    x = rng.uniform(*dom, size=(2, 3))
    t = al.Tensor(x, requires_grad=True)
    y = getattr(al, name)(t, **kw); y.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tf = tname if callable(tname) else (getattr(torch, tname or name, None) or getattr(torch.nn.functional, tname or name))
    ty = tf(tx, **kw); ty.sum().backward()
    return np.allclose(y.data, ty.detach().numpy()) and np.allclose(t.grad.data, tx.grad.numpy())

for n in "sin cos tan arcsin arccos arctan sinh cosh arcsinh arctanh log1p expm1 log2 log10 exp2 square reciprocal rsqrt erf sign floor ceil round trunc".split():
    check(n, lambda n=n: cmp_unary(n))
check("arccosh", lambda: cmp_unary("arccosh", dom=(1.5, 3)))
for n, kw in [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("softplus", {"beta": 2.0, "threshold": 10.0}),
              ("elu", {}), ("selu", {}), ("celu", {}), ("leaky_relu", {}), ("hardtanh", {}), ("relu6", {}),
              ("hardsigmoid", {}), ("hardswish", {}), ("mish", {}), ("logsigmoid", {}), ("softsign", {})]:
    check(f"{n}{kw}", lambda n=n, kw=kw: cmp_unary(n, dom=(-2, 2), **kw))
def stable(n):
    x = al.Tensor(np.array([-1e4, 1e4], np.float32), requires_grad=True)
    y = getattr(al, n)(x); y.sum().backward()
    return bool(np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data)))
for n in ["softplus", "logsigmoid", "gelu", "mish", "silu", "selu", "elu", "celu"]:
    check(f"stable {n}", lambda n=n: stable(n))
check("% and mod/remainder/fmod/hypot/arctan2", lambda: all([
    np.allclose((al.tensor([5.0, -5.0]) % 3).data, [2, 1]), np.allclose(al.fmod([5.0, -5.0], 3.0).data, [2, -2]),
    np.allclose(al.remainder([5.0], 3.0).data, [2]), np.allclose(al.hypot([3.0], [4.0]).data, [5]),
    np.allclose(al.arctan2([1.0], [1.0]).data, [np.pi / 4])]))
x = rng.normal(size=(3, 4))
def t_(): return al.Tensor(x, requires_grad=True)
red = {
 "var": lambda: np.allclose(al.var(x, axis=1, correction=1).data, torch.var(torch.tensor(x), dim=1).numpy()) and np.allclose(al.var(x, ddof=1).data, x.var(ddof=1)),
 "std": lambda: np.allclose(al.std(x, axis=0).data, x.std(0)),
 "prod zeros": lambda: np.allclose(al.grad(lambda a: al.prod(a))(np.array([2.0, 0.0, 3.0])), [0, 6, 0]),
 "cumsum": lambda: np.allclose(al.cumsum(x, 1).data, np.cumsum(x, 1)),
 "cumprod": lambda: np.allclose(al.cumprod(x, 1).data, np.cumprod(x, 1)),
 "logcumsumexp": lambda: np.allclose(al.logcumsumexp(x, 1).data, torch.logcumsumexp(torch.tensor(x), 1).numpy()),
 "cummax": lambda: np.allclose(al.cummax(x, 1).data, np.maximum.accumulate(x, 1)),
 "cummin": lambda: np.allclose(al.cummin(x, 1).data, np.minimum.accumulate(x, 1)),
 "norm vec p=3": lambda: np.allclose(al.norm(x[0], 3).data, np.linalg.norm(x[0], 3)),
 "norm matrix all ords": lambda: all(np.allclose(al.norm(x, o).data, np.linalg.norm(x, o)) for o in [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]),
 "amax/amin": lambda: np.allclose(al.amax(x, 1).data, x.max(1)) and np.allclose(al.amin(x, 1).data, x.min(1)),
 "argmax/argmin": lambda: (al.argmax(x, 1).data == x.argmax(1)).all() and (al.argmin(x).data == x.argmin()),
 "any/all": lambda: bool(al.any(x > 0).data) and not bool(al.all(x > 0).data),
 "sort": lambda: np.allclose(al.sort(x, 1).data, np.sort(x, 1)),
 "topk": lambda: np.allclose(al.topk(x, 2, 1).data if not isinstance(al.topk(x, 2, 1), tuple) else al.topk(x, 2, 1)[0].data, torch.topk(torch.tensor(x), 2, 1).values.numpy()),
 "median": lambda: np.allclose(al.median(x, 1).data, np.median(x, 1)),
 "quantile": lambda: np.allclose(al.quantile(x, 0.3, 1).data, np.quantile(x, 0.3, 1)),
}
for k, f in red.items(): check(k, f)
a = rng.normal(size=(3, 4))
shp = {
 "pad modes": lambda: all(np.allclose(al.pad(a, ((1, 1), (2, 1)), mode=m).data, np.pad(a, ((1, 1), (2, 1)), mode={"replicate": "edge", "circular": "wrap"}.get(m, m))) for m in ["constant", "reflect", "replicate", "circular"]),
 "split": lambda: len(al.split(a, 2, axis=1)) == 2, "array_split": lambda: len(al.array_split(a, 3, axis=1)) == 3,
 "chunk": lambda: len(al.chunk(a, 2, 1)) == 2,
 "repeat": lambda: np.allclose(al.repeat(a, 2, axis=0).data, np.repeat(a, 2, axis=0)),
 "tile": lambda: np.allclose(al.tile(a, (2, 1)).data, np.tile(a, (2, 1))),
 "repeat_interleave": lambda: np.allclose(al.repeat_interleave(a, 2, 0).data, torch.repeat_interleave(torch.tensor(a), 2, 0).numpy()),
 "flip": lambda: np.allclose(al.flip(a, 1).data, np.flip(a, 1)), "roll": lambda: np.allclose(al.roll(a, 1, 1).data, np.roll(a, 1, 1)),
 "diag": lambda: np.allclose(al.diag(a[0]).data, np.diag(a[0])), "diagonal": lambda: np.allclose(al.diagonal(a).data, np.diagonal(a)),
 "trace": lambda: np.allclose(al.trace(a).data, np.trace(a)),
 "triu/tril": lambda: np.allclose(al.triu(a).data, np.triu(a)) and np.allclose(al.tril(a, -1).data, np.tril(a, -1)),
 "take_along_axis": lambda: np.allclose(al.take_along_axis(a, np.argsort(a, 1), 1).data, np.sort(a, 1)),
 "gather": lambda: np.allclose(al.gather(a, 1, np.zeros((3, 2), int)).data, torch.gather(torch.tensor(a), 1, torch.zeros(3, 2, dtype=torch.long)).numpy()),
 "scatter_add/index_add": lambda: al.scatter_add(a, 1, np.zeros((3, 2), int), np.ones((3, 2))) is not None and al.index_add(a, 0, np.array([0, 0]), np.ones((2, 4))) is not None,
 "moveaxis/swapaxes": lambda: al.moveaxis(a, 0, 1).shape == (4, 3) and al.swapaxes(a, 0, 1).shape == (4, 3),
 "flatten/unflatten": lambda: al.flatten(a).shape == (12,) and al.unflatten(al.flatten(a), 0, (3, 4)).shape == (3, 4),
 "meshgrid": lambda: len(al.meshgrid(a[0], a[1])) == 2,
 "vstack/hstack": lambda: al.vstack([a, a]).shape == (6, 4) and al.hstack([a, a]).shape == (3, 8),
}
for k, f in shp.items(): check(k, f)
sq = rng.normal(size=(3, 3)) + 3 * np.eye(3)
lin = {
 "outer/inner/dot/tensordot": lambda: np.allclose(al.outer(a[0], a[1]).data, np.outer(a[0], a[1])) and np.allclose(al.inner(a, a).data, np.inner(a, a)) and np.allclose(al.dot(a, a.T).data, a @ a.T) and np.allclose(al.tensordot(a, a.T, 1).data, a @ a.T),
 "einsum": lambda: np.allclose(al.einsum("ij,kj->ik", a, a).data, a @ a.T),
 "det/inv/solve/cholesky/slogdet": lambda: np.allclose(al.det(sq).data, np.linalg.det(sq)) and np.allclose(al.inv(sq).data, np.linalg.inv(sq)) and np.allclose(al.solve(sq, a[:, 0]).data, np.linalg.solve(sq, a[:, 0])) and np.allclose(al.cholesky(sq @ sq.T).data, np.linalg.cholesky(sq @ sq.T)) and np.allclose(al.slogdet(sq)[1].data, np.linalg.slogdet(sq)[1]),
 "np.linalg.norm on Tensor": lambda: np.allclose(np.linalg.norm(al.Tensor(a), "nuc").data, np.linalg.norm(a, "nuc")),
 "np.linalg.svd on Tensor": lambda: isinstance(np.linalg.svd(al.Tensor(a))[1], al.Tensor),
 "np.linalg.det on Tensor": lambda: isinstance(np.linalg.det(al.Tensor(sq)), al.Tensor),
 "predicates": lambda: all(hasattr(al, n) for n in "isnan isinf isfinite isclose allclose equal less logical_and logical_or logical_xor logical_not".split()),
}
for k, f in lin.items(): check(k, f)
# losses vs torch
p = rng.uniform(0.1, 0.9, size=(4, 3)); yb = rng.integers(0, 2, size=(4, 3)).astype(float)
F = torch.nn.functional
T = lambda v: torch.tensor(v)
los = {
 "mse_loss": lambda: all(np.allclose(al.mse_loss(p, yb, reduction=r).data, F.mse_loss(T(p), T(yb), reduction=r).numpy()) for r in ("mean", "sum", "none")),
 "l1_loss": lambda: np.allclose(al.l1_loss(p, yb).data, F.l1_loss(T(p), T(yb)).numpy()),
 "smooth_l1_loss": lambda: np.allclose(al.smooth_l1_loss(p * 3, yb, beta=0.5).data, F.smooth_l1_loss(T(p * 3), T(yb), beta=0.5).numpy()),
 "huber_loss": lambda: np.allclose(al.huber_loss(p * 3, yb, delta=0.5).data, F.huber_loss(T(p * 3), T(yb), delta=0.5).numpy()),
 "binary_cross_entropy": lambda: np.allclose(al.binary_cross_entropy(p, yb, weight=np.ones(3)).data, F.binary_cross_entropy(T(p), T(yb), weight=torch.ones(3, dtype=torch.float64)).numpy()),
 "bce_with_logits pos_weight extreme": lambda: np.allclose(al.binary_cross_entropy_with_logits(p * 300 - 150, yb, pos_weight=np.array([1., 2., 3.])).data, F.binary_cross_entropy_with_logits(T(p * 300 - 150), T(yb), pos_weight=T(np.array([1., 2., 3.]))).numpy()),
 "nll_loss weight ignore_index": lambda: np.allclose(al.nll_loss(np.log(p), np.array([0, 2, 1, 1]), weight=np.array([1., 2., .5]), ignore_index=1).data, F.nll_loss(T(np.log(p)), torch.tensor([0, 2, 1, 1]), weight=T(np.array([1., 2., .5])), ignore_index=1).numpy()),
 "kl_div log_target": lambda: np.allclose(al.kl_div(np.log(p), np.log(p[::-1]), log_target=True, reduction="batchmean").data, F.kl_div(T(np.log(p)), T(np.log(p[::-1]).copy()), log_target=True, reduction="batchmean").numpy()),
 "kl_div": lambda: np.allclose(al.kl_div(np.log(p), p[::-1]).data, F.kl_div(T(np.log(p)), T(p[::-1].copy())).numpy()),
 "margin_ranking_loss": lambda: np.allclose(al.margin_ranking_loss(p[:, 0], p[:, 1], np.array([1., -1, 1, -1]), margin=0.1).data, F.margin_ranking_loss(T(p[:, 0]), T(p[:, 1]), T(np.array([1., -1, 1, -1])), margin=0.1).numpy()),
 "cosine_embedding_loss": lambda: np.allclose(al.cosine_embedding_loss(p, yb + 0.1, np.array([1., -1, 1, -1])).data, F.cosine_embedding_loss(T(p), T(yb + 0.1), T(np.array([1., -1, 1, -1]))).numpy()),
}
for k, f in los.items(): check(k, f)
def plain_list():
    class M(nn.Module):
        def __init__(self):
            super().__init__(); self.layers = [nn.Linear(2, 2)]
    try:
        m = M(); return len(list(m.parameters())) == 2
    except Exception as e:
        return "ModuleList" in str(e)
def state_dict_strict():
    m = nn.Linear(2, 2); r = m.load_state_dict({"weight": np.zeros((2, 2), np.float32), "extra": np.zeros(1)}, strict=False)
    return "bias" in list(r[0] if isinstance(r, tuple) else r.missing_keys) and "extra" in list(r[1] if isinstance(r, tuple) else r.unexpected_keys)
nns = {
 "ModuleList/ModuleDict/ParameterList": lambda: all(hasattr(nn, n) for n in ("ModuleList", "ModuleDict", "ParameterList")),
 "plain list not silently lost": plain_list,
 "layers": lambda: all(hasattr(nn, n) for n in "Embedding LayerNorm BatchNorm1d Dropout Identity Flatten Linear".split()),
 "activation modules": lambda: [n for n in "GELU SiLU Softplus ELU SELU CELU LeakyReLU Hardtanh ReLU6 Hardsigmoid Hardswish Mish LogSigmoid Softsign ReLU Tanh Sigmoid".split() if not hasattr(nn, n)] == [],
 "Bilinear (optional)": lambda: hasattr(nn, "Bilinear"),
 "init": lambda: [n for n in "xavier_uniform_ xavier_normal_ kaiming_uniform_ kaiming_normal_ zeros_ ones_ normal_ uniform_ constant_ orthogonal_ trunc_normal_".split() if not hasattr(nn.init, n)] == [],
 "load_state_dict strict=False": state_dict_strict,
}
for k, f in nns.items(): check(k, f)
def opt_match(alname, tname, steps=50, **kw):
    w0 = rng.normal(size=(3,)).astype(np.float32)
    pa = nn.Parameter(w0.copy()) if hasattr(nn, "Parameter") else al.Tensor(w0.copy(), requires_grad=True)
    pt = torch.nn.Parameter(torch.tensor(w0.copy()))
    oa = getattr(optim, alname)([pa], **kw); ot = getattr(torch.optim, tname)([pt], **kw)
    for i in range(steps):
        oa.zero_grad(); ot.zero_grad()
        (((pa - 1) ** 2 * (pa * pa + 1)).sum() + (pa * np.float32(i % 3)).sum()).backward()
        (((pt - 1) ** 2 * (pt * pt + 1)).sum() + (pt * (i % 3)).sum()).backward()
        oa.step(); ot.step()
    return np.allclose(pa.data, pt.detach().numpy(), atol=1e-5)
opts = {
 "RMSprop": lambda: opt_match("RMSprop", "RMSprop", lr=0.01, momentum=0.5, centered=True),
 "Adagrad": lambda: opt_match("Adagrad", "Adagrad", lr=0.05),
 "Adam amsgrad": lambda: opt_match("Adam", "Adam", lr=0.01, amsgrad=True),
 "AdamW amsgrad": lambda: opt_match("AdamW", "AdamW", lr=0.01, amsgrad=True, weight_decay=0.1),
 "SGD dampening": lambda: opt_match("SGD", "SGD", lr=0.01, momentum=0.9, dampening=0.3),
 "schedulers": lambda: [n for n in "StepLR CosineAnnealingLR OneCycleLR LinearLR ReduceLROnPlateau".split() if not hasattr(optim, n) and not hasattr(getattr(optim, "lr_scheduler", optim), n)] == [],
 "clip_grad": lambda: hasattr(nn, "utils") and hasattr(nn.utils, "clip_grad_norm_") or (hasattr(nn, "clip_grad_norm_") or hasattr(optim, "clip_grad_norm_")),
}
for k, f in opts.items(): check(k, f)
tr = {
 "grad dict": lambda: set(al.grad(lambda d: (d["a"] * d["b"]).sum())({"a": np.ones(2), "b": np.ones(2)})) == {"a", "b"},
 "value_and_grad list": lambda: len(al.value_and_grad(lambda l: (l[0] * l[1]).sum())([np.ones(2), np.ones(2)])[1]) == 2,
 "vjp tuple": lambda: isinstance(al.vjp(lambda t: t[0] * t[1], (np.ones(2), np.ones(2)))[1](np.ones(2))[0], tuple),
 "jacobian dict": lambda: al.jacobian(lambda d: d["a"] * 2)({"a": np.ones(2)})["a"].shape == (2, 2),
 "hessian dict": lambda: al.hessian(lambda d: (d["a"] ** 3).sum())({"a": np.ones(2)})["a"]["a"].shape == (2, 2),
 "argnums tuple": lambda: len(al.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(np.ones(2), np.ones(2))) == 2,
}
for k, f in tr.items(): check(k, f)
tt = lambda: al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
def af(fn, *args, **kw):
    t = tt(); y = fn(t, *args, **kw); assert isinstance(y, al.Tensor), type(y); y.sum().backward(); return t.grad is not None
npf = {
 "np.sum": lambda: af(np.sum), "np.mean": lambda: af(np.mean, axis=0), "np.dot": lambda: af(lambda t: np.dot(t, np.ones(3))),
 "np.where": lambda: af(lambda t: np.where(t.data > 2, t, 0.0)), "np.concatenate": lambda: af(lambda t: np.concatenate([t, t])),
 "np.clip": lambda: af(np.clip, 1, 3), "np.einsum": lambda: af(lambda t: np.einsum("ij->i", t)), "np.transpose": lambda: af(np.transpose),
 "np.reshape": lambda: af(np.reshape, (3, 2)), "np.max": lambda: af(np.max), "np.stack": lambda: af(lambda t: np.stack([t, t])),
 "np.linalg.norm": lambda: af(np.linalg.norm), "np.var": lambda: af(np.var), "np.cumsum": lambda: af(np.cumsum, axis=1),
 "np.matmul": lambda: af(lambda t: np.matmul(t, np.ones((3, 2)))),
 "unsupported np fn raises clear": lambda: (lambda: (_ for _ in ()).throw(AssertionError))() if False else _unsup(),
}
def _unsup():
    try:
        np.fft.fft(tt())
    except TypeError as e:
        return "fft" in str(e)
    return False
for k, f in npf.items(): check(k, f)
pt = {
 "dim/keepdim": lambda: tt().sum(dim=1, keepdim=True).shape == (2, 1),
 ".view": lambda: tt().view(3, 2).shape == (3, 2), ".clamp": lambda: tt().clamp(1, 2) is not None,
 ".clone": lambda: tt().clone() is not None, ".to(dtype)": lambda: tt().to(np.float32).dtype == np.float32,
 ".float/.double": lambda: tt().float().dtype == np.float32 and tt().double().dtype == np.float64,
 ".t()": lambda: tt().t().shape == (3, 2), "al.cat": lambda: al.cat([tt(), tt()], dim=0).shape == (4, 3),
 ".argmax()": lambda: int(tt().argmax().data) == 5,
 "grad.zero_()": lambda: (lambda t: ((t * 2).sum().backward(), t.grad.zero_(), float(t.grad.sum().data) if hasattr(t.grad, "data") else float(t.grad.sum()))[2] == 0)(tt()),
 "mean(dim=)": lambda: tt().mean(dim=0).shape == (3,), "max(dim=)": lambda: tt().max(dim=0) is not None,
 "al.softmax dim=": lambda: al.softmax(tt(), dim=1).shape == (2, 3),
}
for k, f in pt.items(): check(k, f)
print("FAILS:")
for l, m in fails: print(" -", l, "::", m)
print(len(fails), "fails")
