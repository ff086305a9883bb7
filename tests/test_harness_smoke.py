from harness import run_against

from comms_contract.server import ReferenceServer


def test_reference_passes_quick():
    out = run_against(ReferenceServer(seed=3))
    assert out.code == 0, out.explain()
    assert not out.failed
