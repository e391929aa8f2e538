import inspect, autograd_lite as al, numpy as np
miss = []
for n in sorted(set(al.__all__)):
    f = getattr(al, n, None)
    if not callable(f) or isinstance(f, type): continue
    try: sig = inspect.signature(f)
    except Exception: continue
    ps = sig.parameters
    if "axis" in ps and "dim" not in ps and not any(p.kind == p.VAR_KEYWORD for p in ps.values()):
        miss.append(n)
    elif "axis" in ps and any(p.kind == p.VAR_KEYWORD for p in ps.values()):
        pass
print("no dim alias:", miss)
t = al.Tensor(np.ones((2, 3)))
mm = []
for n in dir(al.Tensor):
    f = getattr(al.Tensor, n)
    if n.startswith("_") or not callable(f): continue
    try: ps = inspect.signature(f).parameters
    except Exception: continue
    if "axis" in ps and "dim" not in ps and not any(p.kind == p.VAR_KEYWORD for p in ps.values()): mm.append(n)
print("methods no dim:", mm)
