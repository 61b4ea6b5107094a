"""virtplug driver for the Docker engine.

Install it next to the core (``pip install virtplug-docker``) and open
``docker:///``::

    import virtplug

    with virtplug.open("docker:///") as conn:
        dom = conn.define_domain(open("web.xml").read())
        dom.start()

Registry access beyond the hook contract: :func:`registry_login`,
:func:`registry_logout`, :func:`pull`, :func:`push`. The offline test image:
``python -m virtplug_docker.testimage``.
"""

from __future__ import annotations

from virtplug_docker._driver import DockerDriver
from virtplug_docker.registry import pull, push, registry_login, registry_logout

__all__ = ["DockerDriver", "pull", "push", "registry_login", "registry_logout"]
__version__ = "0.1.0"
