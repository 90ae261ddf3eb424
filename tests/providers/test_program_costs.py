"""What the program pays per resource class and at import: the AEP resource classes hold their
annotations as objects (providers/resource.py), and importing the providers loads no HTTP
stack until a call needs it (providers/transport.py)."""

from __future__ import annotations

import sys


def test_every_aep_resource_class_holds_its_annotations_as_objects():
    # providers/resource.py, Resource.__init_subclass__: a string annotation here would be
    # compiled again by the SDK for every resource of that class.
    import providers  # noqa: PLC0415
    from providers.resource import Resource  # noqa: PLC0415

    classes = [c for c in vars(providers).values() if isinstance(c, type) and issubclass(c, Resource)]
    assert len(classes) == 10, classes
    for cls in classes:
        annotations = vars(cls).get("__annotations__", {})
        assert annotations and not [k for k, v in annotations.items() if isinstance(v, str)], cls


def test_importing_the_providers_leaves_requests_unloaded():
    # providers/transport.py imports requests on first use: a no-op preview never needs it.
    import subprocess  # noqa: PLC0415

    code = "import sys, providers, pipelines.spec, pipelines.streaming; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
