"""The import graph: no cycles, potentials never imports md_drivers, no private module of
one package imported from another (read from the source with ast, nothing imported)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("potentials", "md_drivers")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Project modules imported at module level (imports inside functions are lazy and
    cannot form an import-time cycle)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    return {name: {m for m in imported_modules(path) if m in modules and m != name}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """An import cycle as a list of modules (first == last), or [] when there is none.
    A package importing its own submodules, or a submodule its package, is no cycle:
    Python initialises the package first either way."""
    state: dict[str, str] = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if target.startswith(node + ".") or node.startswith(target + "."):
                continue
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target not in state:
                cycle = visit(target, trail + [target])
                if cycle:
                    return cycle
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [node])
            if cycle:
                return cycle
    return []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p": {"p.a"}, "p.d": {"p"}}
    assert find_cycle(graph) == ["p.a", "p.b", "p.c", "p.a"]
    assert find_cycle({"p": {"p.a"}, "p.a": {"p"}, "p.b": {"p.a"}}) == []


def test_there_is_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_potentials_never_imports_md_drivers():
    offenders = {name: sorted(m for m in targets if m.startswith("md_drivers"))
                 for name, targets in import_graph().items() if name.startswith("potentials")}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_private_module_is_imported_across_packages():
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    for path in files:
        own = module_name(path).split(".")[0]
        for target in imported_modules(path):
            if target.split(".")[0] != own:
                private = [part for part in target.split(".") if part.startswith("_")]
                assert not private, f"{module_name(path)} imports private {target}"
