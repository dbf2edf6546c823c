"""Checks a Python example from the rule docs (issue 14: SF001's used names it never set).

Always: it compiles, and every `self.X` a method reads that is not a call is set in the
class's `__init__`. With pjsua2 importable: every `pj.X` exists, every `self.m()` is a method
of the class or its pjsua2 base, and the classes can be constructed on a started library.
Prints SKIP-PJSUA2 when pjsua2 cannot be imported. Exits 1 with the problems found.
"""
import ast
import py_compile
import sys

path = sys.argv[1]
py_compile.compile(path, doraise=True)
tree = ast.parse(open(path, encoding="utf-8").read())
problems = []
method_calls = {}  # class name -> {method names called on self}
pj_names = set()


def is_self(node):
    return isinstance(node, ast.Name) and node.id == "self"


for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
    funcs = [f for f in cls.body if isinstance(f, ast.FunctionDef)]
    assigned = set()
    for f in funcs:
        if f.name == "__init__":
            for node in ast.walk(f):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and is_self(node.value):
                    assigned.add(node.attr)
    called = set()
    for f in funcs:
        funcs_called = {id(n.func) for n in ast.walk(f) if isinstance(n, ast.Call)}
        for node in ast.walk(f):
            if not (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and is_self(node.value)):
                continue
            if id(node) in funcs_called:
                called.add(node.attr)
            elif node.attr not in assigned:
                problems.append(f"{cls.name}.{f.name} reads self.{node.attr}, which __init__ never sets")
    method_calls[cls.name] = called

for node in ast.walk(tree):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pj":
        pj_names.add(node.attr)

try:
    import pjsua2 as pj
except ImportError:
    pj = None
    print("SKIP-PJSUA2")

if pj is not None and not problems:
    problems += [f"pjsua2 has no {n}" for n in sorted(pj_names) if not hasattr(pj, n)]
    scope = {}
    exec(compile(tree, path, "exec"), scope)
    for name, called in method_calls.items():
        problems += [f"{name} has no method {m}" for m in sorted(called) if not hasattr(scope[name], m)]
    if not problems:
        ep = pj.Endpoint()
        ep.libCreate()
        ep.libInit(pj.EpConfig())
        try:
            acc = scope["MyAccount"]()
            call = scope["MyCall"](acc)
            if acc.calls != {}:
                problems.append("MyAccount() has no empty call table")
            if call.acc is not acc:
                problems.append("MyCall does not keep its account")
            del call, acc
        finally:
            ep.libDestroy()

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
