"""The shape of the code base: no import cycles among the project's modules, each command imports only
what it needs (``plot``, ``tables`` and ``verify`` never torch; training workers never matplotlib, scipy or
the analysis, the runner never pandas), and SQL's hand-written fast paths are chosen by what a Q network
declares, never by its type."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("softq", "baselines", "experiments")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name | ast.Attribute) and ast.unparse(node.test).endswith(
        "TYPE_CHECKING"
    )


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports anywhere (module level and inside functions: a function-level
    import hides a cycle, it does not remove it), except under ``if TYPE_CHECKING``."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {name for name in found if name in modules}


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, str] = {}
    cycles = []

    def walk(name: str, stack: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph[name]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join([*stack[stack.index(dep) :], dep]))
            elif dep not in state:
                walk(dep, [*stack, dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _loaded_modules(code: str) -> set[str]:
    """The modules loaded after running ``code`` in a fresh interpreter."""
    check = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def _loaded(code: str) -> set[str]:
    """The top-level modules loaded after running ``code`` in a fresh interpreter."""
    return {name.split(".")[0] for name in _loaded_modules(code)}


@functools.cache
def _training_worker_modules() -> set[str]:
    """What a training worker loads: the runner, the launchers and every experiment's training-side code,
    and a run, trained and then skipped as finished."""
    with tempfile.TemporaryDirectory() as root:
        return _loaded_modules(
            "from experiments import launchers, runner\n"
            "from experiments.registry import EXPERIMENTS\n"
            "for e in EXPERIMENTS.values():\n"
            "    [e.load(name) for name in ('metrics', 'write_artifacts', 'epoch_hook', 'finalize')]\n"
            "experiment = EXPERIMENTS['multigoal']\n"
            "spec = runner.RunSpec('multigoal', 'sql', 0, 'smoke')\n"
            f"assert runner.run(experiment, spec, {root!r}).status == 'finished'\n"
            f"assert runner.run(experiment, spec, {root!r}).status == 'skipped'\n"
        )


def test_analysis_commands_do_not_import_torch():
    """What ``plot``, ``tables`` and ``verify`` import: the CLI, the registry, every experiment's figure
    code and the analysis layer."""
    loaded = _loaded(
        "from experiments import cli, analysis, claims, provenance\n"
        "from experiments.analysis import ledger, measures, plots, scorecard, tables\n"
        "from experiments.registry import EXPERIMENTS, figure_specs\n"
        "cli._parser(); figure_specs()\n"
        "makers = [m for e in EXPERIMENTS.values() for m in e.figure_makers()]\n"
        "assert makers\n"
    )
    assert "matplotlib" in loaded  # the check sees what it should
    assert not loaded & {"torch", "stable_baselines3"}


def test_training_side_does_not_import_matplotlib():
    loaded = {name.split(".")[0] for name in _training_worker_modules()}
    assert "torch" in loaded
    assert not loaded & {"matplotlib", "seaborn"}


def test_training_workers_import_no_analysis_code():
    """Of the analysis layer a worker loads only the figure declarations (``FigureSpec``) the experiment
    registry lists: what reads a run's files lives in :mod:`experiments.run_files`, and scipy never loads."""
    loaded = _training_worker_modules()
    assert "experiments.run_files" in loaded  # the check sees what it should
    analysis = {name for name in loaded if name.startswith("experiments.analysis")}
    assert analysis <= {"experiments.analysis", "experiments.analysis.figure_specs"}
    assert "scipy" not in {name.split(".")[0] for name in loaded}


def test_the_runner_imports_neither_pandas_nor_scipy():
    """The runner, the launchers and the registry: a worker loads pandas only for a task whose own
    artifacts are written with it (multigoal's rollouts, composition's and pretraining's tables)."""
    loaded = _loaded("from experiments import launchers, registry, runner\n")
    assert "torch" in loaded
    assert not loaded & {"pandas", "scipy"}


def test_no_code_chooses_a_q_networks_computation_by_its_type():
    """``isinstance(q, QNetwork)`` also holds for a subclass that overrides ``forward``, which would then get
    the closed-form score of its parent's MLP: the fast path is chosen by the network's declared
    ``closed_form_action_gradient`` instead."""
    offenders = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "isinstance"
                and len(node.args) == 2
                and "QNetwork" in ast.unparse(node.args[1])
            ):
                offenders.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, "\n".join(offenders)


def test_a_q_network_subclass_that_overrides_forward_gets_its_own_score():
    import torch as th
    from gymnasium import spaces

    from softq.policies import QNetwork, SQLPolicy, tanh_log_density_correction_gradient

    class QuadraticCostQ(QNetwork):
        def forward(self, features, actions):
            return super().forward(features, actions) - (actions**2).sum(-1)

    box = spaces.Box(-1.0, 1.0, (2,))
    policy = SQLPolicy(spaces.Box(-1.0, 1.0, (3,)), box, lambda _: 1e-3, net_arch=[16, 16])
    assert policy.qf.closed_form_action_gradient
    features, actions = th.randn(4, 1, 3), th.rand(4, 5, 2) * 1.8 - 0.9
    parent_gradient = policy.qf.action_gradient(features, actions)
    subclass = QuadraticCostQ(3, 2, [16, 16], th.nn.ReLU)
    subclass.load_state_dict(policy.qf.state_dict())
    assert not subclass.closed_form_action_gradient
    policy.qf = subclass
    expected = parent_gradient - 2.0 * actions + tanh_log_density_correction_gradient(actions)
    assert th.allclose(policy.svgd_score(features, actions), expected, atol=1e-5)
