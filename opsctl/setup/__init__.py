"""``opsctl init``: write a commented opsctl.yaml from what already runs (ECS, Fly, Kubernetes).

- ``model.py``: what discovery found about one environment (:class:`Discovered`);
- ``targets.py``: parsing ``--ecs CLUSTER/SERVICE`` and friends, and guessing environment names;
- ``ecs.py`` / ``fly.py`` / ``kube.py``: one discovery per platform, reads only;
- ``render.py``: the commented YAML;
- ``project.py``: discover every target, render, check with ``load_config``, write (never over a file without force).
"""
