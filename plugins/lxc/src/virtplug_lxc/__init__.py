"""virtplug driver for LXC system containers.

Install ``virtplug-lxc`` and open ``virtplug.open("lxc:///")`` (lxcpath
``/var/lib/lxc``) or ``virtplug.open("lxc:///ABS/LXCPATH")``.
"""

from __future__ import annotations

from virtplug_lxc.driver import DEFAULT_LXCPATH, LXCDriver

__all__ = ["DEFAULT_LXCPATH", "LXCDriver"]
