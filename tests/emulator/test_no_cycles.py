"""The emulator's import graph, read from the source by grimp (``TYPE_CHECKING`` imports count):
no module of ``twilio_emulator`` (its ``__init__`` included) reaches itself again, and the
product reaches the emulator only from ``ivr call``."""

from __future__ import annotations

import grimp

PACKAGE = "twilio_emulator"


def import_cycles(graph: grimp.ImportGraph, package: str) -> set[tuple[str, ...]]:
    """Each import that closes a cycle in ``package``, as the cycle: ``(a, b, ..., a)``."""
    modules = {package} | graph.find_descendants(package)
    cycles = set()
    for importer in modules:
        for imported in graph.find_modules_directly_imported_by(importer) & modules:
            back = graph.find_shortest_chain(imported, importer)
            if back is not None:
                cycles.add((importer, *back))
    return cycles


def test_the_emulator_imports_without_cycles() -> None:
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    assert len(graph.find_descendants(PACKAGE)) > 10  # the real package, not an empty one
    assert import_cycles(graph, PACKAGE) == set()
    assert graph.nominate_cycle_breakers(PACKAGE) == set()


def test_the_check_sees_cycles_between_modules_and_through_the_package() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.call", "pkg.dial", "pkg.agent", "pkg.rest"):
        graph.add_module(module)
    graph.add_import(importer="pkg.call", imported="pkg.dial")
    graph.add_import(importer="pkg.dial", imported="pkg.agent")
    assert import_cycles(graph, "pkg") == set()
    graph.add_import(importer="pkg.dial", imported="pkg.call")  # dial needs call's type
    graph.add_import(importer="pkg", imported="pkg.rest")  # the package re-exports rest...
    graph.add_import(importer="pkg.rest", imported="pkg")  # ... which imports the package
    assert import_cycles(graph, "pkg") == {
        ("pkg.call", "pkg.dial", "pkg.call"),
        ("pkg.dial", "pkg.call", "pkg.dial"),
        ("pkg", "pkg.rest", "pkg"),
        ("pkg.rest", "pkg", "pkg.rest"),
    }


def test_only_ivr_call_and_the_browser_phones_network_import_the_emulator() -> None:
    graph = grimp.build_graph("ivr", "bot", "voice", PACKAGE, cache_dir=None)
    users = graph.find_modules_that_directly_import(PACKAGE, as_package=True)
    product_users = {user for user in users if not user.startswith(PACKAGE)}
    assert product_users == {"ivr.commands.call", "ivr.browser_phone.network"}
