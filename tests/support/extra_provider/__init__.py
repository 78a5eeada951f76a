"""A fifth provider, *Lumen*, kept as files to copy: the shape a new provider takes.

``provider/lumen`` is an adapter subpackage (what goes in ``bridge/providers/lumen``),
``simulator/lumen`` its simulator (``bridge/simulators/lumen``) and
``collections/lumen`` its collection documents (``collections/lumen``). Lumen is
invented: an optical archive with a small JSON API (scenes listed by bbox and time,
orders delivered at once, files behind presigned URLs). ``tests/test_extra_provider.py``
copies the three folders into a temporary tree, registers them the way the four real
providers are registered (as subpackages of ``bridge.providers`` / ``bridge.simulators``
and a folder of the collections directory), and runs the provider contract suite and a
federated search over them, editing no other file.
"""
