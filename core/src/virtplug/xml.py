"""The libvirt XML codec: the only module in virtplug that imports lxml.

It reads and writes libvirt's document formats for the subset the models in
:mod:`virtplug.models` hold: ``<domain>`` (the container form), a single
device (``<interface>``, ``<filesystem>``, ``<console>``), ``<network>``,
``<pool>``, ``<volume>``, ``<domainsnapshot>``, ``<capabilities>``, and the
test driver's ``<node>`` state file.

Hardening
    Every document goes through one parser configured with
    ``resolve_entities=False, no_network=True, load_dtd=False,
    huge_tree=False``; comments and processing instructions are dropped. A
    document with a ``<!DOCTYPE>`` (and therefore any ``<!ENTITY>``
    declaration: billion laughs, external entities) is refused outright, as is
    any document larger than :data:`MAX_DOCUMENT_BYTES` (checked before the
    parser sees it). Malformed input raises :class:`~virtplug.errors.XMLError`
    whose message and ``details['line']`` carry the line number; semantic
    errors (bad name, bad UUID, bad unit, ...) carry the offending element's
    line the same way.

Unknown XML
    Elements and attributes the models do not hold are never silently
    dropped: their paths relative to the document's root element (``clock``,
    ``devices/graphics``, ``vcpu/@placement``) are collected into the model's
    ``unknown`` tuple (where it has one) and announced with a
    :class:`VirtplugXMLWarning`. They are not written back by the formatters.

Units
    Memory accepts libvirt's units (``b``/``bytes``, ``k``/``KiB``, ``KB``,
    ``M``/``MiB``, ``MB``, ``G``/``GiB``, ``GB``, ``T``/``TiB``, ``TB``, ``P``,
    ``E``; case-insensitive, default KiB) and is converted to KiB rounding
    up. Storage sizes take the same units (default bytes) and become bytes.
    The formatters always write ``unit='KiB'`` for memory and
    ``unit='bytes'`` for storage.

Defaults
    The parsers fill what a document omits from the models' defaults (a
    ``<domain>`` without ``<memory>`` gets ``DomainConfig.memory_kib``), but
    values that are present must be valid.

The test driver's state file (:func:`parse_node` / :func:`format_node`)
    Modelled on libvirt's test driver ``<node>`` document. Runtime state lives
    in the virtplug test namespace ``https://virtplug.dev/xmlns/test/1``
    (prefix ``vp``), as libvirt's test driver keeps it in its own
    ``test:`` namespace::

        <node xmlns:vp="https://virtplug.dev/xmlns/test/1">
          <cpu>                                  <!-- optional node facts -->
            <mhz>2400</mhz><model>x86_64</model><active>8</active>
            <nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads>
          </cpu>
          <memory unit="KiB">16777216</memory>
          <domain type="test">                   <!-- any number -->
            ...the domain definition...
            <vp:runstate>running</vp:runstate>   <!-- DomainState name, lower case -->
            <vp:id>7</vp:id>                     <!-- optional: id while active -->
            <vp:reason>1</vp:reason>             <!-- optional: state reason code -->
            <vp:live><domain>...</domain></vp:live>  <!-- optional: live config -->
            <vp:transient/>                      <!-- present: not persistent -->
            <vp:autostart/>                      <!-- present: autostart -->
            <vp:snapshots>
              <domainsnapshot>...as format_snapshot writes it...</domainsnapshot>
            </vp:snapshots>
          </domain>
          <network>                              <!-- any number -->
            ...the network definition...
            <vp:active/><vp:transient/><vp:autostart/>
          </network>
          <pool type="dir">                      <!-- any number -->
            ...the pool definition...
            <vp:active/><vp:transient/><vp:autostart/>
            <volume>...</volume>                 <!-- the pool's volumes -->
          </pool>
          <auth>
            <user password="secret">alice</user>
          </auth>
        </node>

    ``<cpu>`` needs ``<model>`` and ``<active>`` (the other figures default
    to :class:`~virtplug.models.NodeInfo`'s) and goes with ``<memory>``.
    Names must be unique per kind (volume names per pool, snapshot names per
    domain, user names); a transient object must be active, since libvirt
    forgets a transient object when it stops. External ``<domain file=...>``
    references of libvirt's test driver are refused.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import math
import re
import threading
import warnings
from collections.abc import Collection, Iterator, Sequence
from typing import Any, cast

from lxml import etree

from virtplug.errors import InvalidArgError, XMLError
from virtplug.models import (
    ConsoleConfig,
    Credentials,
    DeviceConfig,
    DHCPRange,
    DomainConfig,
    DomainState,
    FilesystemConfig,
    HostCapabilities,
    InterfaceConfig,
    IPConfig,
    NetworkConfig,
    NodeDocument,
    NodeDomain,
    NodeInfo,
    NodeNetwork,
    NodePool,
    OSConfig,
    PoolConfig,
    SnapshotConfig,
    SnapshotInfo,
    VolumeConfig,
    normalize_uuid,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "TEST_NAMESPACE",
    "VirtplugXMLWarning",
    "format_capabilities",
    "format_device",
    "format_domain",
    "format_network",
    "format_node",
    "format_pool",
    "format_snapshot",
    "format_volume",
    "parse_capabilities",
    "parse_device",
    "parse_domain",
    "parse_network",
    "parse_node",
    "parse_pool",
    "parse_snapshot",
    "parse_snapshot_info",
    "parse_volume",
]

#: Largest document (in bytes, UTF-8 for ``str`` input) the parsers accept.
#: Read at every call, so a deployment may lower or raise it.
MAX_DOCUMENT_BYTES: int = 1024 * 1024

#: The namespace of the test driver's runtime-state elements in ``<node>``.
TEST_NAMESPACE = "https://virtplug.dev/xmlns/test/1"
_VP = f"{{{TEST_NAMESPACE}}}"


class VirtplugXMLWarning(UserWarning):
    """A document held elements or attributes virtplug does not model.

    They were ignored (and are listed in the model's ``unknown`` tuple where it
    has one); they will not be written back.
    """


# ---------------------------------------------------------------------------
# Parsing machinery
# ---------------------------------------------------------------------------

_LOCAL = threading.local()

_MAX_NAME = 255
_MAX_STORAGE_BYTES = 2**64 - 1
_MAX_MEMORY_BYTES = 2**63 - 1
_DIGITS = re.compile(r"\s*([0-9]+)\s*")
_TIME = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*")
_POSITION_SUFFIX = re.compile(r",? line [0-9]+, column [0-9]+$")
_PROLOG_MISC = re.compile(r"\ufeff?(?:[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
#: Byte signatures of UTF-8 (BOM), UTF-32 and UTF-16 documents (with and without a BOM).
_WIDE_SIGNATURES = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_MAC = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
_LIFECYCLE_ACTIONS = frozenset(
    {"destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart"}
)
_FORWARD_MODES = frozenset(
    {"nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"}
)
_ACCESS_MODES = frozenset({"passthrough", "mapped", "squash"})
#: ``<filesystem type>`` -> the ``<source>`` attribute holding ``source``.
_FS_SOURCE_ATTR = {
    "template": "name",
    "mount": "dir",
    "bind": "dir",
    "file": "file",
    "volume": "volume",
}
_IFACE_SOURCE_ATTR: dict[str, str | None] = {
    "network": "network",
    "bridge": "bridge",
    "ethernet": None,
}
_DEVICE_TAGS = ("filesystem", "interface", "console")
_DOMAIN_ROOT_ATTRS = ("type", "id")


def _parser(for_text: bool) -> etree.XMLParser:
    """Return this thread's hardened parser (lxml parsers are not thread-safe)."""
    key = "text" if for_text else "bytes"
    parser: etree.XMLParser | None = getattr(_LOCAL, key, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            # ``str`` input is encoded to UTF-8 here, whatever its declaration says.
            encoding="utf-8" if for_text else None,
        )
        setattr(_LOCAL, key, parser)
    return parser


def _line(el: etree._Element | None) -> int | None:
    return None if el is None else cast("int | None", el.sourceline)


def _error(message: str, el: etree._Element | None = None) -> XMLError:
    line = _line(el)
    if line is not None:
        return XMLError(f"{message} (line {line})", line=line)
    return XMLError(message)


def _load(text: str | bytes, roots: Collection[str], kind: str) -> etree._Element:
    """Parse *text* with the hardened parser and check its root element."""
    if isinstance(text, str):
        if len(text) > MAX_DOCUMENT_BYTES:
            raise _oversize(kind, len(text))
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise XMLError(f"{kind} XML is not valid Unicode: {exc}") from None
        parser = _parser(for_text=True)
    elif isinstance(text, bytes | bytearray | memoryview):
        data = bytes(text)
        parser = _parser(for_text=False)
    else:
        raise InvalidArgError(f"{kind} XML must be str or bytes, not {type(text).__name__}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _oversize(kind, len(data))
    doctype_line = _prolog_doctype_line(text if isinstance(text, str) else data)
    if doctype_line is not None:
        raise _doctype_refused(kind, doctype_line)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        reason = _POSITION_SUFFIX.sub("", exc.msg or str(exc))
        raise XMLError(
            f"malformed {kind} XML at line {line}, column {column}: {reason}",
            line=line,
            column=column,
        ) from None
    except ValueError as exc:  # e.g. an encoding lxml cannot handle
        raise XMLError(f"malformed {kind} XML: {exc}", line=1) from None
    docinfo = root.getroottree().docinfo
    if (
        getattr(docinfo, "doctype", "")
        or getattr(docinfo, "internalDTD", None) is not None
        or getattr(docinfo, "externalDTD", None) is not None
    ):  # an encoding the pre-scan cannot read (e.g. EBCDIC); refused all the same
        raise _doctype_refused(kind, 1)
    for entity in root.iter(etree.Entity):  # unreachable without a DTD; belt and braces
        raise _error(f"{kind} XML: entity references are not allowed", entity)
    if root.tag not in roots:
        expected = " or ".join(f"<{r}>" for r in roots)
        raise _error(f"expected {expected} root element, found <{_tag_name(root)}>", root)
    return root


def _oversize(kind: str, size: int) -> XMLError:
    return XMLError(
        f"{kind} XML document is {size} bytes, larger than the limit of {MAX_DOCUMENT_BYTES} bytes",
        size=size,
        limit=MAX_DOCUMENT_BYTES,
    )


def _doctype_refused(kind: str, line: int) -> XMLError:
    return XMLError(
        f"{kind} XML at line {line}: DOCTYPE and entity declarations are not allowed",
        line=line,
    )


def _prolog_doctype_line(text: str | bytes) -> int | None:
    """Return the line of a ``<!DOCTYPE`` in the prolog, before lxml sees it.

    The prolog (XML declaration, comments, processing instructions,
    whitespace) is the only place a document type declaration may appear, so
    nothing in the body can trigger a false alarm. UTF-16/32 input is decoded
    first; any other encoding is scanned as Latin-1, which keeps the ASCII
    markup of all ASCII-compatible encodings intact.
    """
    if isinstance(text, bytes):
        head = text[:4]
        codec = "latin-1"
        for signature, name in _WIDE_SIGNATURES:
            if head.startswith(signature):
                codec = name
                break
        text = text.decode(codec, errors="replace")
    match = _PROLOG_MISC.match(text)
    end = match.end() if match else 0
    if text.startswith("<!DOCTYPE", end):
        return text.count("\n", 0, end) + 1
    return None


def _tag_name(el: etree._Element) -> str:
    """Return *el*'s tag as written (``prefix:local`` for namespaced tags)."""
    qname = etree.QName(el)
    namespace: str | None = qname.namespace
    if namespace is None:
        return qname.localname
    if el.prefix:
        return f"{el.prefix}:{qname.localname}"
    return qname.text


def _attributes(el: etree._Element) -> list[str]:
    return [key if isinstance(key, str) else key.decode() for key in el.attrib]


def _attr_name(el: etree._Element, key: str) -> str:
    if not key.startswith("{"):
        return key
    qname = etree.QName(key)
    if qname.namespace == "http://www.w3.org/XML/1998/namespace":
        return f"xml:{qname.localname}"
    for prefix, uri in el.nsmap.items():
        if uri == qname.namespace and prefix:
            return f"{prefix}:{qname.localname}"
    return key


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


class _Unknown:
    """Collects the paths of unmodelled elements and attributes during one parse."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def add(self, path: str) -> None:
        if path not in self.paths:
            self.paths.append(path)

    def check_attributes(self, el: etree._Element, path: str) -> None:
        """Report every attribute of *el* (for elements that take none)."""
        for key in _attributes(el):
            self.add(_join(path, "@" + _attr_name(el, key)))

    def check(
        self,
        el: etree._Element,
        path: str,
        attributes: Collection[str] = (),
        children: Collection[str] = (),
    ) -> None:
        """Report *el*'s attributes and child elements not named as known."""
        for key in el.keys():  # noqa: SIM118 - lxml's keys() is the cheap list of names
            if key not in attributes:
                name = key if isinstance(key, str) else key.decode()
                self.add(_join(path, "@" + _attr_name(el, name)))
        for child in el:
            tag = child.tag
            if tag not in children and isinstance(tag, str):
                self.add(_join(path, _tag_name(child)))


def _elements(el: etree._Element) -> Iterator[etree._Element]:
    for child in el:
        if isinstance(child.tag, str):
            yield child


def _groups(el: etree._Element) -> dict[Any, list[etree._Element]]:
    """*el*'s children grouped by tag (callers only read it).

    Inside a parse (:func:`_indexed_children`) each element is grouped once and
    kept, instead of one scan per looked-up tag (a domain asks its root for ~20
    tags). The element is kept in the entry so its id() stays valid until the
    parse ends.
    """
    index: dict[int, tuple[etree._Element, dict[Any, list[etree._Element]]]] | None = getattr(
        _LOCAL, "children", None
    )
    if index is not None:
        entry = index.get(id(el))
        if entry is not None:
            return entry[1]
    groups: dict[Any, list[etree._Element]] = {}
    for child in el:
        groups.setdefault(child.tag, []).append(child)
    if index is not None:
        index[id(el)] = (el, groups)
    return groups


def _all(el: etree._Element, tag: str) -> Sequence[etree._Element]:
    """The ``<tag>`` children of *el*, in document order (callers only read it)."""
    return _groups(el).get(tag, _NO_ELEMENTS)


_NO_ELEMENTS: tuple[etree._Element, ...] = ()


@contextlib.contextmanager
def _indexed_children() -> Iterator[None]:
    """Enable the per-parse child index of :func:`_all` for this thread."""
    _LOCAL.children = {}
    try:
        yield
    finally:
        _LOCAL.children = None


def _one(el: etree._Element, tag: str) -> etree._Element | None:
    """Return the only ``<tag>`` child of *el*, ``None``, or raise on duplicates."""
    found = _groups(el).get(tag)
    if found is None:
        return None
    if len(found) > 1:
        raise _error(f"element <{_tag_name(found[1])}> appears more than once", found[1])
    return found[0]


def _text(el: etree._Element) -> str:
    return el.text or ""


def _leaf(
    el: etree._Element, path: str, unknown: _Unknown, attributes: Collection[str] = ()
) -> str:
    unknown.check(el, path, attributes)
    return _text(el)


def _opt_leaf(parent: etree._Element, tag: str, path: str, unknown: _Unknown) -> str | None:
    el = _one(parent, tag)
    return None if el is None else _leaf(el, _join(path, tag), unknown)


def _required_attr(el: etree._Element, name: str, what: str) -> str:
    value = el.get(name)
    if value is None:
        raise _error(f"{what}: missing required attribute '{name}'", el)
    return value


def _nonempty_attr(el: etree._Element, name: str, what: str) -> str:
    value = _required_attr(el, name, what)
    if not value:
        raise _error(f"{what}: attribute '{name}' must not be empty", el)
    return value


def _uint(value: str, what: str, el: etree._Element) -> int:
    match = _DIGITS.fullmatch(value)
    if match is None:
        raise _error(f"{what}: expected a non-negative integer, got {value!r}", el)
    return int(match.group(1))


def _positive(value: str, what: str, el: etree._Element) -> int:
    number = _uint(value, what, el)
    if number == 0:
        raise _error(f"{what}: must be greater than zero", el)
    return number


def _scale(unit: str | None, default: int, what: str, el: etree._Element) -> int:
    """Return the byte multiplier of libvirt *unit* (``virScaleInteger``'s rules)."""
    if unit is None or unit == "":
        return default
    lowered = unit.lower()
    if lowered in ("b", "byte", "bytes"):
        return 1
    rest = lowered[1:]
    if rest in ("", "ib"):
        base = 1024
    elif rest == "b":
        base = 1000
    else:
        raise _error(f"{what}: unknown unit {unit!r}", el)
    power = "kmgtpe".find(lowered[0]) + 1
    if power == 0:
        raise _error(f"{what}: unknown unit {unit!r}", el)
    return int(base**power)


def _memory_kib(el: etree._Element, what: str, path: str, unknown: _Unknown) -> int:
    text = _leaf(el, path, unknown, ("unit",))
    value = _positive(text, what, el)
    size = value * _scale(el.get("unit"), 1024, what, el)
    if size > _MAX_MEMORY_BYTES:
        raise _error(f"{what}: value {value} {el.get('unit') or 'KiB'} is too large", el)
    return -(-size // 1024)


def _storage_bytes(el: etree._Element, what: str, path: str, unknown: _Unknown) -> int:
    text = _leaf(el, path, unknown, ("unit",))
    value = _uint(text, what, el)
    size = value * _scale(el.get("unit"), 1, what, el)
    if size > _MAX_STORAGE_BYTES:
        raise _error(f"{what}: value {value} {el.get('unit') or 'bytes'} is too large", el)
    return size


def _check_name(value: str, kind: str, el: etree._Element) -> str:
    if not value:
        raise _error(f"{kind} name must not be empty", el)
    if value in (".", ".."):
        raise _error(f"{kind} name {value!r} is not allowed", el)
    if "/" in value:
        raise _error(f"{kind} name {value!r} must not contain '/'", el)
    if "\0" in value:
        raise _error(f"{kind} name {value!r} must not contain NUL", el)
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value):
        raise _error(f"{kind} name {value!r} must not contain control characters", el)
    if len(value) > _MAX_NAME:
        raise _error(f"{kind} name is {len(value)} characters long, more than {_MAX_NAME}", el)
    return value


def _name(root: etree._Element, kind: str, unknown: _Unknown) -> str:
    el = _one(root, "name")
    if el is None:
        raise _error(f"{kind} definition is missing its <name>", root)
    return _check_name(_leaf(el, "name", unknown), kind, el)


def _uuid(root: etree._Element, kind: str, unknown: _Unknown) -> str | None:
    el = _one(root, "uuid")
    if el is None:
        return None
    value = _leaf(el, "uuid", unknown).strip()
    try:
        return normalize_uuid(value)
    except ValueError:
        raise _error(f"{kind} has a malformed UUID {value!r}", el) from None


def _ip(value: str, what: str, el: etree._Element) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise _error(f"{what}: {value!r} is not an IP address", el) from None


def _family_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return "ipv6" if address.version == 6 else "ipv4"


def _prefix(
    value: str,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    what: str,
    el: etree._Element,
) -> int:
    prefix = _uint(value, what, el)
    if prefix > address.max_prefixlen:
        raise _error(f"{what}: prefix {prefix} is too long for {address}", el)
    return prefix


def _warn(what: str, paths: Sequence[str]) -> None:
    if paths:
        warnings.warn(
            f"{what}: unmodelled XML ignored and not written back: {', '.join(paths)}",
            VirtplugXMLWarning,
            stacklevel=3,
        )


def _prefixed(prefix: str, paths: Sequence[str]) -> list[str]:
    return [_join(prefix, path) for path in paths]


# ---------------------------------------------------------------------------
# Formatting machinery
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _formatting(kind: str) -> Iterator[None]:
    """Turn lxml's complaints about model values into INVALID_ARG errors."""
    try:
        yield
    except ValueError as exc:
        raise InvalidArgError(f"cannot format {kind} XML: {exc}") from exc


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for key, value in attributes.items():
        el.set(key, value)
    if text is not None:
        el.text = text
    return el


def _opt_sub(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, tag, text)


def _serialize(root: etree._Element) -> str:
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------
# Domain
# ---------------------------------------------------------------------------

_DOMAIN_CHILDREN = (
    "name",
    "uuid",
    "title",
    "description",
    "metadata",
    "memory",
    "currentMemory",
    "vcpu",
    "os",
    "features",
    "on_poweroff",
    "on_reboot",
    "on_crash",
    "devices",
)


def _canonical_metadata(el: etree._Element) -> str:
    """Serialise one ``<metadata>`` child independently of indentation."""
    clone = copy.deepcopy(el)
    clone.tail = None
    for node in clone.iter():
        if node is not clone and node.tail is not None and not node.tail.strip():
            node.tail = None
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
    etree.cleanup_namespaces(clone)
    return etree.tostring(clone, encoding="unicode")


def _read_os(el: etree._Element, unknown: _Unknown) -> OSConfig:
    unknown.check(el, "os", (), ("type", "init", "initarg", "initenv", "initdir", "inituser"))
    type_el = _one(el, "type")
    if type_el is None:
        raise _error("domain <os> must contain a <type>", el)
    os_type = _leaf(type_el, "os/type", unknown, ("arch",)).strip()
    if not os_type:
        raise _error("domain <os><type> must not be empty", type_el)
    arch = type_el.get("arch")
    initenv: list[tuple[str, str]] = []
    for env in _all(el, "initenv"):
        value = _leaf(env, "os/initenv", unknown, ("name",))
        initenv.append((_nonempty_attr(env, "name", "domain <os><initenv>"), value))
    return OSConfig(
        type=os_type,
        init=_opt_leaf(el, "init", "os", unknown),
        initargs=tuple(_leaf(arg, "os/initarg", unknown) for arg in _all(el, "initarg")),
        initenv=tuple(initenv),
        initdir=_opt_leaf(el, "initdir", "os", unknown),
        inituser=_opt_leaf(el, "inituser", "os", unknown),
        arch=arch,
    )


def _read_filesystem(el: etree._Element, path: str, unknown: _Unknown) -> FilesystemConfig:
    what = "<filesystem>"
    unknown.check(el, path, ("type", "accessmode"), ("source", "target", "readonly"))
    fs_type = el.get("type", "mount")
    if fs_type not in _FS_SOURCE_ATTR:
        supported = ", ".join(sorted(_FS_SOURCE_ATTR))
        raise _error(f"{what}: unsupported type {fs_type!r} (supported: {supported})", el)
    accessmode = el.get("accessmode")
    if accessmode is not None and accessmode not in _ACCESS_MODES:
        raise _error(f"{what}: unsupported accessmode {accessmode!r}", el)
    source_el = _one(el, "source")
    if source_el is None:
        raise _error(f"{what} of type {fs_type!r} needs a <source>", el)
    source_attr = _FS_SOURCE_ATTR[fs_type]
    pool: str | None = None
    if fs_type == "volume":
        unknown.check(source_el, _join(path, "source"), ("pool", "volume"))
        pool = _nonempty_attr(source_el, "pool", f"{what} <source>")
    else:
        unknown.check(source_el, _join(path, "source"), (source_attr,))
    source = _nonempty_attr(source_el, source_attr, f"{what} <source>")
    target_el = _one(el, "target")
    if target_el is None:
        raise _error(f"{what} needs a <target dir=...>", el)
    unknown.check(target_el, _join(path, "target"), ("dir",))
    target = _nonempty_attr(target_el, "dir", f"{what} <target>")
    if not target.startswith("/"):
        raise _error(f"{what} <target dir={target!r}> must be an absolute path", target_el)
    readonly_el = _one(el, "readonly")
    if readonly_el is not None:
        unknown.check(readonly_el, _join(path, "readonly"))
    return FilesystemConfig(
        type=fs_type,
        source=source,
        target=target,
        pool=pool,
        readonly=readonly_el is not None,
        accessmode=accessmode,
    )


def _read_interface(el: etree._Element, path: str, unknown: _Unknown) -> InterfaceConfig:
    what = "<interface>"
    unknown.check(el, path, ("type",), ("source", "mac", "target", "model", "ip"))
    if_type = _required_attr(el, "type", what)
    if if_type not in _IFACE_SOURCE_ATTR:
        supported = ", ".join(sorted(_IFACE_SOURCE_ATTR))
        raise _error(f"{what}: unsupported type {if_type!r} (supported: {supported})", el)
    source_attr = _IFACE_SOURCE_ATTR[if_type]
    source_el = _one(el, "source")
    source: str | None = None
    if source_attr is None:
        if source_el is not None:
            unknown.add(_join(path, "source"))
    else:
        if source_el is None:
            raise _error(f"{what} of type {if_type!r} needs <source {source_attr}=...>", el)
        unknown.check(source_el, _join(path, "source"), (source_attr,))
        source = _nonempty_attr(source_el, source_attr, f"{what} <source>")
    mac: str | None = None
    mac_el = _one(el, "mac")
    if mac_el is not None:
        unknown.check(mac_el, _join(path, "mac"), ("address",))
        mac = _required_attr(mac_el, "address", f"{what} <mac>").strip()
        if not _MAC.fullmatch(mac):
            raise _error(f"{what}: {mac!r} is not a MAC address", mac_el)
        mac = mac.lower()
    target: str | None = None
    target_el = _one(el, "target")
    if target_el is not None:
        unknown.check(target_el, _join(path, "target"), ("dev",))
        target = _nonempty_attr(target_el, "dev", f"{what} <target>")
    model: str | None = None
    model_el = _one(el, "model")
    if model_el is not None:
        unknown.check(model_el, _join(path, "model"), ("type",))
        model = _nonempty_attr(model_el, "type", f"{what} <model>")
    ips: list[tuple[str, int]] = []
    for ip_el in _all(el, "ip"):
        unknown.check(ip_el, _join(path, "ip"), ("address", "prefix", "family"))
        address = _ip(_required_attr(ip_el, "address", f"{what} <ip>"), f"{what} <ip>", ip_el)
        family = ip_el.get("family")
        if family is not None and family != _family_of(address):
            raise _error(f"{what} <ip>: family {family!r} does not match {address}", ip_el)
        prefix_text = ip_el.get("prefix")
        prefix = (
            address.max_prefixlen
            if prefix_text is None
            else _prefix(prefix_text, address, f"{what} <ip>", ip_el)
        )
        ips.append((str(address), prefix))
    return InterfaceConfig(
        type=if_type, source=source, mac=mac, target=target, model=model, ips=tuple(ips)
    )


def _read_console(el: etree._Element, path: str, unknown: _Unknown) -> ConsoleConfig:
    unknown.check(el, path, ("type",), ("target",))
    console_type = el.get("type", "pty")
    if not console_type:
        raise _error("<console>: attribute 'type' must not be empty", el)
    target_type: str | None = None
    target_port: int | None = None
    target_el = _one(el, "target")
    if target_el is not None:
        unknown.check(target_el, _join(path, "target"), ("type", "port"))
        target_type = target_el.get("type")
        port = target_el.get("port")
        if port is not None:
            target_port = _uint(port, "<console> <target port>", target_el)
    return ConsoleConfig(type=console_type, target_type=target_type, target_port=target_port)


def _read_device(el: etree._Element, path: str, unknown: _Unknown) -> DeviceConfig:
    if el.tag == "filesystem":
        return _read_filesystem(el, path, unknown)
    if el.tag == "interface":
        return _read_interface(el, path, unknown)
    return _read_console(el, path, unknown)


def _lifecycle(root: etree._Element, tag: str, default: str, unknown: _Unknown) -> str:
    el = _one(root, tag)
    if el is None:
        return default
    action = _leaf(el, tag, unknown).strip()
    if action not in _LIFECYCLE_ACTIONS:
        allowed = ", ".join(sorted(_LIFECYCLE_ACTIONS))
        raise _error(f"domain <{tag}>: unknown action {action!r} (allowed: {allowed})", el)
    return action


#: A domain's defaults, read where an element is absent.
_DOMAIN_DEFAULTS = DomainConfig(name="-")


def _read_domain(root: etree._Element) -> DomainConfig:
    """Build a :class:`DomainConfig` from a ``<domain>`` element."""
    unknown = _Unknown()
    unknown.check(root, "", _DOMAIN_ROOT_ATTRS, _DOMAIN_CHILDREN)
    if root.get("file") is not None:
        raise _error("external <domain file=...> references are not supported", root)
    domain_type = _nonempty_attr(root, "type", "<domain>")
    domain_id = root.get("id")
    if domain_id is not None and not re.fullmatch(r"\s*-?[0-9]+\s*", domain_id):
        raise _error(f"<domain>: id {domain_id!r} is not an integer", root)
    defaults = _DOMAIN_DEFAULTS
    name = _name(root, "domain", unknown)
    memory_el = _one(root, "memory")
    memory = (
        defaults.memory_kib
        if memory_el is None
        else _memory_kib(memory_el, "domain <memory>", "memory", unknown)
    )
    current_el = _one(root, "currentMemory")
    current: int | None = None
    if current_el is not None:
        current = _memory_kib(current_el, "domain <currentMemory>", "currentMemory", unknown)
        if current > memory:
            raise _error(
                f"domain <currentMemory> ({current} KiB) is larger than <memory> ({memory} KiB)",
                current_el,
            )
    vcpu_el = _one(root, "vcpu")
    vcpus = (
        defaults.vcpus
        if vcpu_el is None
        else _positive(_leaf(vcpu_el, "vcpu", unknown), "domain <vcpu>", vcpu_el)
    )
    os_el = _one(root, "os")
    os_config = OSConfig() if os_el is None else _read_os(os_el, unknown)
    features: list[str] = []
    features_el = _one(root, "features")
    if features_el is not None:
        unknown.check_attributes(features_el, "features")
        for feature in _elements(features_el):
            is_flag = not (len(feature) or feature.attrib or _text(feature).strip())
            if is_flag and not str(feature.tag).startswith("{"):
                if feature.tag not in features:
                    features.append(str(feature.tag))
            else:
                # Features with attributes or content cannot be held as names.
                unknown.add(_join("features", _tag_name(feature)))
    metadata: list[str] = []
    metadata_el = _one(root, "metadata")
    if metadata_el is not None:
        unknown.check_attributes(metadata_el, "metadata")
        metadata = [_canonical_metadata(child) for child in _elements(metadata_el)]
    filesystems: list[FilesystemConfig] = []
    interfaces: list[InterfaceConfig] = []
    consoles: list[ConsoleConfig] = []
    emulator: str | None = None
    devices_el = _one(root, "devices")
    if devices_el is not None:
        unknown.check(devices_el, "devices", (), ("emulator", *_DEVICE_TAGS))
        emulator = _opt_leaf(devices_el, "emulator", "devices", unknown)
        for device_el in _elements(devices_el):
            if device_el.tag not in _DEVICE_TAGS:
                continue
            device = _read_device(device_el, _join("devices", str(device_el.tag)), unknown)
            if isinstance(device, FilesystemConfig):
                filesystems.append(device)
            elif isinstance(device, InterfaceConfig):
                interfaces.append(device)
            else:
                consoles.append(device)
    return DomainConfig(
        name=name,
        uuid=_uuid(root, "domain", unknown),
        type=domain_type,
        memory_kib=memory,
        current_memory_kib=current,
        vcpus=vcpus,
        os=os_config,
        filesystems=tuple(filesystems),
        interfaces=tuple(interfaces),
        consoles=tuple(consoles),
        emulator=emulator,
        title=_opt_leaf(root, "title", "", unknown),
        description=_opt_leaf(root, "description", "", unknown),
        on_poweroff=_lifecycle(root, "on_poweroff", defaults.on_poweroff, unknown),
        on_reboot=_lifecycle(root, "on_reboot", defaults.on_reboot, unknown),
        on_crash=_lifecycle(root, "on_crash", defaults.on_crash, unknown),
        features=tuple(features),
        metadata=tuple(metadata),
        unknown=tuple(unknown.paths),
    )


def parse_domain(text: str | bytes) -> DomainConfig:
    """Parse libvirt ``<domain>`` XML (container form) into a :class:`DomainConfig`.

    Unmodelled elements and attributes are listed in ``DomainConfig.unknown``
    and announced with a :class:`VirtplugXMLWarning`. The ``id`` attribute
    (runtime state) is accepted and ignored.

    :param text: the document, as ``str`` or bytes (bytes honour the XML
        declaration's encoding).
    :returns: the domain configuration, UUID normalised to canonical form.
    :raises XMLError: malformed or hostile XML, wrong root element, missing or
        invalid ``<name>``, bad UUID, bad memory/vCPU values or units, ...
    """
    with _indexed_children():
        config = _read_domain(_load(text, ("domain",), "domain"))
    _warn(f"domain {config.name!r}", config.unknown)
    return config


def _write_os(parent: etree._Element, os_config: OSConfig) -> None:
    os_el = _sub(parent, "os")
    type_el = _sub(os_el, "type", os_config.type)
    if os_config.arch is not None:
        type_el.set("arch", os_config.arch)
    _opt_sub(os_el, "init", os_config.init)
    for arg in os_config.initargs:
        _sub(os_el, "initarg", arg)
    for env_name, env_value in os_config.initenv:
        _sub(os_el, "initenv", env_value, name=env_name)
    _opt_sub(os_el, "initdir", os_config.initdir)
    _opt_sub(os_el, "inituser", os_config.inituser)


def _write_filesystem(fs: FilesystemConfig) -> etree._Element:
    el = etree.Element("filesystem", type=fs.type)
    if fs.accessmode is not None:
        el.set("accessmode", fs.accessmode)
    source = _sub(el, "source")
    if fs.type == "volume":
        source.set("pool", fs.pool or "")
        source.set("volume", fs.source)
    else:
        source.set(_FS_SOURCE_ATTR.get(fs.type, "dir"), fs.source)
    _sub(el, "target", dir=fs.target)
    if fs.readonly:
        _sub(el, "readonly")
    return el


def _write_interface(iface: InterfaceConfig) -> etree._Element:
    el = etree.Element("interface", type=iface.type)
    source_attr = _IFACE_SOURCE_ATTR.get(iface.type, iface.type)
    if iface.source is not None and source_attr is not None:
        _sub(el, "source", **{source_attr: iface.source})
    if iface.mac is not None:
        _sub(el, "mac", address=iface.mac)
    if iface.target is not None:
        _sub(el, "target", dev=iface.target)
    if iface.model is not None:
        _sub(el, "model", type=iface.model)
    for address, prefix in iface.ips:
        ip_el = _sub(el, "ip", address=address, prefix=str(prefix))
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(address).version == 6:
                ip_el.set("family", "ipv6")
    return el


def _write_console(console: ConsoleConfig) -> etree._Element:
    el = etree.Element("console", type=console.type)
    if console.target_type is not None or console.target_port is not None:
        target = _sub(el, "target")
        if console.target_type is not None:
            target.set("type", console.target_type)
        if console.target_port is not None:
            target.set("port", str(console.target_port))
    return el


def _write_device(device: DeviceConfig) -> etree._Element:
    if isinstance(device, FilesystemConfig):
        return _write_filesystem(device)
    if isinstance(device, InterfaceConfig):
        return _write_interface(device)
    if isinstance(device, ConsoleConfig):
        return _write_console(device)
    raise InvalidArgError(f"not a device configuration: {type(device).__name__}")


def _write_domain(config: DomainConfig, domain_id: int | None = None) -> etree._Element:
    root = etree.Element("domain", type=config.type)
    if domain_id is not None:
        if domain_id < 1:
            raise InvalidArgError(f"domain id must be positive, got {domain_id}")
        root.set("id", str(domain_id))
    _sub(root, "name", config.name)
    _opt_sub(root, "uuid", config.uuid)
    _opt_sub(root, "title", config.title)
    _opt_sub(root, "description", config.description)
    if config.metadata:
        metadata = _sub(root, "metadata")
        for index, fragment in enumerate(config.metadata):
            try:
                metadata.append(_load(fragment, _AnyRoot(), "domain <metadata> entry"))
            except XMLError as exc:
                raise InvalidArgError(
                    f"domain metadata entry {index} is not one XML element: {exc.message}"
                ) from exc
    _sub(root, "memory", str(config.memory_kib), unit="KiB")
    if config.current_memory_kib is not None:
        _sub(root, "currentMemory", str(config.current_memory_kib), unit="KiB")
    _sub(root, "vcpu", str(config.vcpus))
    _write_os(root, config.os)
    if config.features:
        features = _sub(root, "features")
        for feature in config.features:
            _sub(features, feature)
    _sub(root, "on_poweroff", config.on_poweroff)
    _sub(root, "on_reboot", config.on_reboot)
    _sub(root, "on_crash", config.on_crash)
    devices = _sub(root, "devices")
    _opt_sub(devices, "emulator", config.emulator)
    devices_list: list[DeviceConfig] = [*config.filesystems, *config.interfaces, *config.consoles]
    for device in devices_list:
        devices.append(_write_device(device))
    return root


class _AnyRoot(Collection[str]):
    """A root-tag filter that accepts any element (for metadata fragments)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def format_domain(config: DomainConfig, *, id: int | None = None) -> str:
    """Write *config* as pretty-printed libvirt ``<domain>`` XML.

    :param config: the domain configuration.
    :param id: the running domain's id, written as ``<domain id=...>``
        (``None`` for an inactive domain).
    :returns: the document text, ending with a newline.
    :raises InvalidArgError: a value cannot be represented in XML (control
        characters, a metadata entry that is not one element, ``id`` < 1).
    """
    with _formatting("domain"):
        return _serialize(_write_domain(config, id))


# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------


def parse_device(text: str | bytes) -> DeviceConfig:
    """Parse one device element: ``<interface>``, ``<filesystem>`` or ``<console>``.

    Used for hot-plug (``attach_device`` / ``detach_device``). Unmodelled
    parts are announced with a :class:`VirtplugXMLWarning`.

    :param text: the device document.
    :returns: a :class:`FilesystemConfig`, :class:`InterfaceConfig` or
        :class:`ConsoleConfig`.
    :raises XMLError: malformed or hostile XML, another root element, or an
        invalid device.
    """
    root = _load(text, _DEVICE_TAGS, "device")
    unknown = _Unknown()
    device = _read_device(root, str(root.tag), unknown)
    _warn(f"device <{root.tag}>", unknown.paths)
    return device


def format_device(device: DeviceConfig) -> str:
    """Write one device as pretty-printed libvirt XML.

    :param device: a filesystem, interface or console configuration.
    :returns: the ``<filesystem>``, ``<interface>`` or ``<console>`` element.
    :raises InvalidArgError: *device* is not a device configuration or holds
        values XML cannot represent.
    """
    with _formatting("device"):
        return _serialize(_write_device(device))


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------


def _read_network_ip(el: etree._Element, path: str, unknown: _Unknown) -> IPConfig:
    what = "network <ip>"
    unknown.check(el, path, ("address", "prefix", "netmask", "family"), ("dhcp",))
    address = _ip(_required_attr(el, "address", what), what, el)
    family = el.get("family")
    if family is not None and family != _family_of(address):
        raise _error(f"{what}: family {family!r} does not match {address}", el)
    prefix_text = el.get("prefix")
    netmask = el.get("netmask")
    if prefix_text is not None and netmask is not None:
        raise _error(f"{what}: give either 'prefix' or 'netmask', not both", el)
    if netmask is not None:
        if address.version != 4:
            raise _error(f"{what}: 'netmask' is only valid for IPv4, use 'prefix'", el)
        try:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{netmask.strip()}").prefixlen
        except ValueError:
            raise _error(f"{what}: {netmask!r} is not a valid netmask", el) from None
    elif prefix_text is not None:
        prefix = _prefix(prefix_text, address, what, el)
    else:
        raise _error(f"{what}: needs a 'prefix' or 'netmask' attribute", el)
    ranges: list[DHCPRange] = []
    dhcp_el = _one(el, "dhcp")
    if dhcp_el is not None:
        dhcp_path = _join(path, "dhcp")
        unknown.check(dhcp_el, dhcp_path, (), ("range",))
        for range_el in _all(dhcp_el, "range"):
            unknown.check(range_el, _join(dhcp_path, "range"), ("start", "end"))
            bounds = []
            for attr in ("start", "end"):
                bound = _ip(
                    _required_attr(range_el, attr, f"{what} <range>"), f"{what} <range>", range_el
                )
                if bound.version != address.version:
                    raise _error(f"{what} <range>: {bound} is not {_family_of(address)}", range_el)
                bounds.append(bound)
            if int(bounds[0]) > int(bounds[1]):
                raise _error(
                    f"{what} <range>: start {bounds[0]} is after end {bounds[1]}", range_el
                )
            ranges.append(DHCPRange(start=str(bounds[0]), end=str(bounds[1])))
    return IPConfig(
        address=str(address), prefix=prefix, family=_family_of(address), dhcp=tuple(ranges)
    )


_NETWORK_CHILDREN = ("name", "uuid", "forward", "bridge", "mtu", "domain", "ip")


def _read_network(root: etree._Element) -> NetworkConfig:
    unknown = _Unknown()
    unknown.check(root, "", (), _NETWORK_CHILDREN)
    name = _name(root, "network", unknown)
    forward: str | None = None
    forward_el = _one(root, "forward")
    if forward_el is not None:
        unknown.check(forward_el, "forward", ("mode",))
        forward = forward_el.get("mode", "nat")
        if forward not in _FORWARD_MODES:
            allowed = ", ".join(sorted(_FORWARD_MODES))
            raise _error(
                f"network <forward>: unknown mode {forward!r} (allowed: {allowed})", forward_el
            )
    bridge: str | None = None
    bridge_el = _one(root, "bridge")
    if bridge_el is not None:
        unknown.check(bridge_el, "bridge", ("name",))
        bridge = bridge_el.get("name")
    mtu: int | None = None
    mtu_el = _one(root, "mtu")
    if mtu_el is not None:
        unknown.check(mtu_el, "mtu", ("size",))
        mtu = _positive(_required_attr(mtu_el, "size", "network <mtu>"), "network <mtu>", mtu_el)
    dns_domain: str | None = None
    domain_el = _one(root, "domain")
    if domain_el is not None:
        unknown.check(domain_el, "domain", ("name",))
        dns_domain = _nonempty_attr(domain_el, "name", "network <domain>")
    ips = tuple(_read_network_ip(ip_el, "ip", unknown) for ip_el in _all(root, "ip"))
    return NetworkConfig(
        name=name,
        uuid=_uuid(root, "network", unknown),
        bridge=bridge,
        forward=forward,
        ips=ips,
        mtu=mtu,
        domain=dns_domain,
        unknown=tuple(unknown.paths),
    )


def parse_network(text: str | bytes) -> NetworkConfig:
    """Parse libvirt ``<network>`` XML into a :class:`NetworkConfig`.

    ``<ip netmask=...>`` is converted to a prefix length; ``<forward/>``
    without a mode means ``nat`` (as in libvirt).

    :param text: the document.
    :returns: the network configuration.
    :raises XMLError: malformed or hostile XML, wrong root, missing or invalid
        name, bad UUID, bad addresses, prefixes or forward mode.
    """
    config = _read_network(_load(text, ("network",), "network"))
    _warn(f"network {config.name!r}", config.unknown)
    return config


def _write_network(config: NetworkConfig) -> etree._Element:
    root = etree.Element("network")
    _sub(root, "name", config.name)
    _opt_sub(root, "uuid", config.uuid)
    if config.forward is not None:
        _sub(root, "forward", mode=config.forward)
    if config.bridge is not None:
        _sub(root, "bridge", name=config.bridge)
    if config.mtu is not None:
        _sub(root, "mtu", size=str(config.mtu))
    if config.domain is not None:
        _sub(root, "domain", name=config.domain)
    for ip in config.ips:
        ip_el = _sub(root, "ip", address=ip.address, prefix=str(ip.prefix))
        if ip.family != "ipv4":
            ip_el.set("family", ip.family)
        if ip.dhcp:
            dhcp = _sub(ip_el, "dhcp")
            for dhcp_range in ip.dhcp:
                _sub(dhcp, "range", start=dhcp_range.start, end=dhcp_range.end)
    return root


def format_network(config: NetworkConfig) -> str:
    """Write *config* as pretty-printed libvirt ``<network>`` XML.

    :param config: the network configuration.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML.
    """
    with _formatting("network"):
        return _serialize(_write_network(config))


# ---------------------------------------------------------------------------
# Storage pools and volumes
# ---------------------------------------------------------------------------

_POOL_CHILDREN = ("name", "uuid", "capacity", "allocation", "available", "source", "target")


def _read_pool(root: etree._Element, extra_children: Collection[str] = ()) -> PoolConfig:
    unknown = _Unknown()
    unknown.check(root, "", ("type",), (*_POOL_CHILDREN, *extra_children))
    pool_type = _nonempty_attr(root, "type", "<pool>")
    name = _name(root, "pool", unknown)
    sizes: dict[str, int] = {}
    for tag in ("capacity", "allocation", "available"):
        el = _one(root, tag)
        sizes[tag] = 0 if el is None else _storage_bytes(el, f"pool <{tag}>", tag, unknown)
    source: str | None = None
    source_el = _one(root, "source")
    if source_el is not None:
        unknown.check(source_el, "source", (), ("name",))
        source = _opt_leaf(source_el, "name", "source", unknown)
    target: str | None = None
    target_el = _one(root, "target")
    if target_el is not None:
        unknown.check(target_el, "target", (), ("path",))
        target = _opt_leaf(target_el, "path", "target", unknown)
    return PoolConfig(
        name=name,
        uuid=_uuid(root, "pool", unknown),
        type=pool_type,
        target=target,
        source=source,
        capacity=sizes["capacity"],
        allocation=sizes["allocation"],
        available=sizes["available"],
        unknown=tuple(unknown.paths),
    )


def parse_pool(text: str | bytes) -> PoolConfig:
    """Parse libvirt storage ``<pool>`` XML into a :class:`PoolConfig`.

    Sizes (``<capacity>``, ``<allocation>``, ``<available>``) are converted
    to bytes; absent ones are 0.

    :param text: the document.
    :returns: the pool configuration.
    :raises XMLError: malformed or hostile XML, wrong root, missing type,
        missing or invalid name, bad UUID, bad sizes or units.
    """
    config = _read_pool(_load(text, ("pool",), "pool"))
    _warn(f"pool {config.name!r}", config.unknown)
    return config


def _write_pool(config: PoolConfig) -> etree._Element:
    root = etree.Element("pool", type=config.type)
    _sub(root, "name", config.name)
    _opt_sub(root, "uuid", config.uuid)
    _sub(root, "capacity", str(config.capacity), unit="bytes")
    _sub(root, "allocation", str(config.allocation), unit="bytes")
    _sub(root, "available", str(config.available), unit="bytes")
    if config.source is not None:
        _sub(_sub(root, "source"), "name", config.source)
    if config.target is not None:
        _sub(_sub(root, "target"), "path", config.target)
    return root


def format_pool(config: PoolConfig) -> str:
    """Write *config* as pretty-printed libvirt ``<pool>`` XML.

    ``<capacity>``, ``<allocation>`` and ``<available>`` are always written,
    with ``unit='bytes'``.

    :param config: the pool configuration.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML.
    """
    with _formatting("pool"):
        return _serialize(_write_pool(config))


_VOLUME_CHILDREN = ("name", "key", "source", "capacity", "allocation", "target")


def _read_volume(root: etree._Element) -> VolumeConfig:
    unknown = _Unknown()
    unknown.check(root, "", ("type",), _VOLUME_CHILDREN)
    vol_type = root.get("type", "file")
    if not vol_type:
        raise _error("<volume>: attribute 'type' must not be empty", root)
    name = _name(root, "volume", unknown)
    key = _opt_leaf(root, "key", "", unknown)
    source_el = _one(root, "source")
    if source_el is not None:  # libvirt writes an empty <source/> for plain volumes
        unknown.check(source_el, "source")
    capacity_el = _one(root, "capacity")
    if capacity_el is None:
        raise _error(f"volume {name!r} is missing its <capacity>", root)
    capacity = _storage_bytes(capacity_el, "volume <capacity>", "capacity", unknown)
    allocation_el = _one(root, "allocation")
    allocation = (
        None
        if allocation_el is None
        else _storage_bytes(allocation_el, "volume <allocation>", "allocation", unknown)
    )
    path: str | None = None
    vol_format: str | None = None
    target_el = _one(root, "target")
    if target_el is not None:
        unknown.check(target_el, "target", (), ("path", "format"))
        path = _opt_leaf(target_el, "path", "target", unknown)
        format_el = _one(target_el, "format")
        if format_el is not None:
            unknown.check(format_el, "target/format", ("type",))
            vol_format = _nonempty_attr(format_el, "type", "volume <format>")
    return VolumeConfig(
        name=name,
        capacity=capacity,
        allocation=allocation,
        format=vol_format,
        type=vol_type,
        key=key,
        path=path,
        unknown=tuple(unknown.paths),
    )


def parse_volume(text: str | bytes) -> VolumeConfig:
    """Parse libvirt storage ``<volume>`` XML into a :class:`VolumeConfig`.

    :param text: the document.
    :returns: the volume configuration, sizes in bytes.
    :raises XMLError: malformed or hostile XML, wrong root, missing or
        invalid name, missing ``<capacity>``, bad sizes or units.
    """
    config = _read_volume(_load(text, ("volume",), "volume"))
    _warn(f"volume {config.name!r}", config.unknown)
    return config


def _write_volume(config: VolumeConfig) -> etree._Element:
    root = etree.Element("volume", type=config.type)
    _sub(root, "name", config.name)
    _opt_sub(root, "key", config.key)
    _sub(root, "capacity", str(config.capacity), unit="bytes")
    if config.allocation is not None:
        _sub(root, "allocation", str(config.allocation), unit="bytes")
    if config.path is not None or config.format is not None:
        target = _sub(root, "target")
        _opt_sub(target, "path", config.path)
        if config.format is not None:
            _sub(target, "format", type=config.format)
    return root


def format_volume(config: VolumeConfig) -> str:
    """Write *config* as pretty-printed libvirt ``<volume>`` XML (sizes in bytes).

    :param config: the volume configuration.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML.
    """
    with _formatting("volume"):
        return _serialize(_write_volume(config))


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------

_STATE_NAMES = {state: state.name.lower() for state in DomainState}
_STATES_BY_NAME = {name: state for state, name in _STATE_NAMES.items()}
#: Runtime fields of ``<domainsnapshot>`` that a create request may carry (as
#: ``virsh snapshot-dumpxml`` output does) and that are ignored there.
_SNAPSHOT_RUNTIME = ("state", "creationTime", "domain")


def _state(value: str, what: str, el: etree._Element) -> DomainState:
    value = value.strip()
    if value.isdigit() and int(value) in DomainState._value2member_map_:
        return DomainState(int(value))
    try:
        return _STATES_BY_NAME[value]
    except KeyError:
        allowed = ", ".join(_STATE_NAMES.values())
        raise _error(f"{what}: unknown state {value!r} (allowed: {allowed})", el) from None


def parse_snapshot(text: str | bytes) -> SnapshotConfig:
    """Parse a ``<domainsnapshot>`` create request into a :class:`SnapshotConfig`.

    Only ``<name>`` and ``<description>`` are read. ``<state>``,
    ``<creationTime>`` and ``<domain>`` (runtime fields, present in
    ``format_snapshot`` output) are accepted and ignored; anything else is
    reported with a :class:`VirtplugXMLWarning`.

    :param text: the document.
    :returns: the snapshot request (``name`` is ``None`` when absent).
    :raises XMLError: malformed or hostile XML, wrong root, invalid name.
    """
    root = _load(text, ("domainsnapshot",), "domainsnapshot")
    unknown = _Unknown()
    unknown.check(root, "", (), ("name", "description", *_SNAPSHOT_RUNTIME))
    name: str | None = None
    name_el = _one(root, "name")
    if name_el is not None:
        name = _check_name(_leaf(name_el, "name", unknown), "snapshot", name_el)
    config = SnapshotConfig(name=name, description=_opt_leaf(root, "description", "", unknown))
    _warn("domainsnapshot", unknown.paths)
    return config


def _read_snapshot_info(
    root: etree._Element, domain_name: str | None
) -> tuple[SnapshotInfo, list[str]]:
    unknown = _Unknown()
    unknown.check(root, "", (), ("name", "description", *_SNAPSHOT_RUNTIME))
    name = _name(root, "snapshot", unknown)
    state_el = _one(root, "state")
    if state_el is None:
        raise _error(f"snapshot {name!r} is missing its <state>", root)
    state = _state(_leaf(state_el, "state", unknown), "snapshot <state>", state_el)
    time_el = _one(root, "creationTime")
    if time_el is None:
        raise _error(f"snapshot {name!r} is missing its <creationTime>", root)
    time_text = _leaf(time_el, "creationTime", unknown)
    match = _TIME.fullmatch(time_text)
    creation_time = float(match.group(1)) if match else math.nan
    if not math.isfinite(creation_time):
        raise _error(f"snapshot <creationTime>: {time_text!r} is not a time in seconds", time_el)
    domain_el = _one(root, "domain")
    if domain_el is None:
        raise _error(f"snapshot {name!r} is missing its <domain>", root)
    config: DomainConfig | None = None
    if domain_el.get("type") is not None:
        config = _read_domain(domain_el)
        unknown.paths.extend(_prefixed("domain", config.unknown))
        owner = config.name
    else:
        unknown.check(domain_el, "domain", (), ("name",))
        owner_el = _one(domain_el, "name")
        if owner_el is None:
            raise _error(f"snapshot {name!r}: <domain> needs a type or a <name>", domain_el)
        owner = _check_name(_leaf(owner_el, "domain/name", unknown), "domain", owner_el)
    info = SnapshotInfo(
        name=name,
        domain=domain_name if domain_name is not None else owner,
        creation_time=creation_time,
        state=state,
        description=_opt_leaf(root, "description", "", unknown),
        config=config,
    )
    return info, unknown.paths


def parse_snapshot_info(text: str | bytes) -> SnapshotInfo:
    """Parse a stored snapshot (``format_snapshot`` output) into a :class:`SnapshotInfo`.

    ``<domain>`` is either a full domain definition (it has a ``type``
    attribute; it becomes ``config``) or ``<domain><name>`` only.

    :param text: the document.
    :returns: the snapshot.
    :raises XMLError: malformed or hostile XML, wrong root, missing name,
        state, creation time or domain.
    """
    info, unknown = _read_snapshot_info(_load(text, ("domainsnapshot",), "domainsnapshot"), None)
    _warn(f"domainsnapshot {info.name!r}", unknown)
    return info


def _format_time(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _write_snapshot(info: SnapshotInfo) -> etree._Element:
    root = etree.Element("domainsnapshot")
    _sub(root, "name", info.name)
    _opt_sub(root, "description", info.description)
    _sub(root, "state", _STATE_NAMES[DomainState(info.state)])
    _sub(root, "creationTime", _format_time(info.creation_time))
    if info.config is not None:
        root.append(_write_domain(info.config))
    else:
        _sub(_sub(root, "domain"), "name", info.domain)
    return root


def format_snapshot(info: SnapshotInfo) -> str:
    """Write *info* as libvirt ``<domainsnapshot>`` XML.

    Holds ``<name>``, ``<description>``, ``<state>`` (the domain state's name
    in lower case), ``<creationTime>`` (seconds; a fraction is kept when
    present), and ``<domain>``: the captured definition when ``config`` is
    set, else ``<domain><name>`` naming the domain.

    :param info: the snapshot.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML.
    """
    with _formatting("domainsnapshot"):
        return _serialize(_write_snapshot(info))


# ---------------------------------------------------------------------------
# Capabilities
# ---------------------------------------------------------------------------


def _write_capabilities(caps: HostCapabilities) -> etree._Element:
    root = etree.Element("capabilities")
    host = _sub(root, "host")
    _sub(_sub(host, "cpu"), "arch", caps.arch)
    if caps.features:
        features = _sub(host, "features")
        for feature in caps.features:
            _sub(features, "feature", name=feature)
    for os_type in caps.os_types:
        guest = _sub(root, "guest")
        _sub(guest, "os_type", os_type)
        arch = _sub(guest, "arch", name=caps.arch)
        for domain_type in caps.domain_types:
            _sub(arch, "domain", type=domain_type)
    return root


def format_capabilities(caps: HostCapabilities) -> str:
    """Write *caps* as libvirt ``<capabilities>`` XML.

    ``<host><cpu><arch>`` carries the architecture and ``<host><features>``
    one ``<feature name=...>`` per host feature; one ``<guest>`` per OS type
    lists every domain type under ``<arch name=...>``.

    :param caps: the host capabilities.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML.
    """
    with _formatting("capabilities"):
        return _serialize(_write_capabilities(caps))


def parse_capabilities(text: str | bytes) -> HostCapabilities:
    """Parse ``<capabilities>`` XML (as :func:`format_capabilities` writes it).

    Domain types of all guests are merged, in first-seen order. libvirt's
    richer host description (topology, security models, ...) is reported as
    unknown.

    :param text: the document.
    :returns: the host capabilities.
    :raises XMLError: malformed or hostile XML, wrong root, missing arch.
    """
    root = _load(text, ("capabilities",), "capabilities")
    unknown = _Unknown()
    unknown.check(root, "", (), ("host", "guest"))
    host = _one(root, "host")
    if host is None:
        raise _error("capabilities are missing <host>", root)
    unknown.check(host, "host", (), ("cpu", "features"))
    cpu = _one(host, "cpu")
    arch_el = None if cpu is None else _one(cpu, "arch")
    if cpu is None or arch_el is None:
        raise _error("capabilities are missing <host><cpu><arch>", host)
    unknown.check(cpu, "host/cpu", (), ("arch",))
    arch = _leaf(arch_el, "host/cpu/arch", unknown).strip()
    features: list[str] = []
    features_el = _one(host, "features")
    if features_el is not None:
        unknown.check(features_el, "host/features", (), ("feature",))
        for feature in _all(features_el, "feature"):
            unknown.check(feature, "host/features/feature", ("name",))
            features.append(_required_attr(feature, "name", "capabilities <feature>"))
    os_types: list[str] = []
    domain_types: list[str] = []
    for guest in _all(root, "guest"):
        unknown.check(guest, "guest", (), ("os_type", "arch"))
        os_type_el = _one(guest, "os_type")
        if os_type_el is None:
            raise _error("capabilities <guest> is missing <os_type>", guest)
        os_types.append(_leaf(os_type_el, "guest/os_type", unknown).strip())
        for arch_child in _all(guest, "arch"):
            unknown.check(arch_child, "guest/arch", ("name",), ("domain",))
            for domain in _all(arch_child, "domain"):
                unknown.check(domain, "guest/arch/domain", ("type",))
                domain_type = _nonempty_attr(domain, "type", "capabilities <domain>")
                if domain_type not in domain_types:
                    domain_types.append(domain_type)
    _warn("capabilities", unknown.paths)
    return HostCapabilities(
        arch=arch,
        domain_types=tuple(domain_types),
        os_types=tuple(os_types),
        features=tuple(features),
    )


# ---------------------------------------------------------------------------
# The test driver's state file
# ---------------------------------------------------------------------------

_NODE_CHILDREN = ("cpu", "memory", "domain", "network", "pool", "auth")
_NODE_CPU = ("mhz", "model", "active", "nodes", "sockets", "cores", "threads")


class _Flags:
    """The ``vp:`` runtime-state children taken off one object element."""

    def __init__(self, el: etree._Element, allowed: Collection[str], what: str) -> None:
        self.found: dict[str, etree._Element] = {}
        for child in list(_elements(el)):
            tag = str(child.tag)
            if not tag.startswith(_VP):
                continue
            local = tag[len(_VP) :]
            if local not in allowed:
                raise _error(f"{what}: unknown test-driver element <vp:{local}>", child)
            if local in self.found:
                raise _error(f"{what}: element <vp:{local}> appears more than once", child)
            self.found[local] = child
            el.remove(child)

    def flag(self, local: str, what: str) -> bool:
        el = self.found.get(local)
        if el is None:
            return False
        if len(el) or el.attrib or _text(el).strip():
            raise _error(f"{what}: <vp:{local}/> must be empty", el)
        return True


def _unique(names: Sequence[str], what: str, el: etree._Element) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _error(f"node document: duplicate {what} {name!r}", el)
        seen.add(name)


def _check_active(persistent: bool, active: bool, what: str, el: etree._Element | None) -> None:
    if not persistent and not active:
        message = f"{what} is transient but not active (a stopped transient object is gone)"
        if el is None:
            raise InvalidArgError(message)
        raise _error(message, el)


def _read_node_info(root: etree._Element, unknown: _Unknown) -> NodeInfo | None:
    cpu = _one(root, "cpu")
    memory_el = _one(root, "memory")
    if cpu is None and memory_el is None:
        return None
    if cpu is None or memory_el is None:
        missing = "<cpu>" if cpu is None else "<memory>"
        raise _error(
            f"node document: node facts need both <cpu> and <memory>, {missing} is missing", root
        )
    unknown.check(cpu, "cpu", (), _NODE_CPU)
    figures: dict[str, int] = {}
    for tag in ("mhz", "active", "nodes", "sockets", "cores", "threads"):
        el = _one(cpu, tag)
        if el is not None:
            figures[tag] = _uint(_leaf(el, f"cpu/{tag}", unknown), f"node <cpu><{tag}>", el)
    model_el = _one(cpu, "model")
    if model_el is None or "active" not in figures:
        raise _error("node document: <cpu> needs <model> and <active>", cpu)
    defaults = NodeInfo(model="", memory_kib=0, cpus=0)
    return NodeInfo(
        model=_leaf(model_el, "cpu/model", unknown),
        memory_kib=_memory_kib(memory_el, "node <memory>", "memory", unknown),
        cpus=figures["active"],
        mhz=figures.get("mhz", defaults.mhz),
        nodes=figures.get("nodes", defaults.nodes),
        sockets=figures.get("sockets", defaults.sockets),
        cores=figures.get("cores", defaults.cores),
        threads=figures.get("threads", defaults.threads),
    )


def _read_node_domain(el: etree._Element) -> tuple[NodeDomain, list[str]]:
    flags = _Flags(
        el,
        ("runstate", "transient", "autostart", "snapshots", "id", "reason", "live"),
        "node <domain>",
    )
    config = _read_domain(el)
    what = f"node domain {config.name!r}"
    state = DomainState.SHUTOFF
    runstate = flags.found.get("runstate")
    if runstate is not None:
        if len(runstate) or runstate.attrib:
            raise _error(f"{what}: <vp:runstate> holds only a state name", runstate)
        state = _state(_text(runstate), f"{what} <vp:runstate>", runstate)
    persistent = not flags.flag("transient", what)
    _check_active(persistent, state != DomainState.SHUTOFF, what, el)
    runtime: dict[str, int] = {}
    for local in ("id", "reason"):
        found = flags.found.get(local)
        if found is not None:
            if len(found) or found.attrib:
                raise _error(f"{what}: <vp:{local}> holds only a number", found)
            read = _positive if local == "id" else _uint
            runtime[local] = read(_text(found).strip(), f"{what} <vp:{local}>", found)
    live: DomainConfig | None = None
    live_el = flags.found.get("live")
    if live_el is not None:
        children = list(_elements(live_el))
        if len(children) != 1 or children[0].tag != "domain" or live_el.attrib:
            raise _error(f"{what}: <vp:live> holds exactly one <domain>", live_el)
        live = _read_domain(children[0])
    if ("id" in runtime or live is not None) and state == DomainState.SHUTOFF:
        raise _error(f"{what}: <vp:id> and <vp:live> are only for an active domain", el)
    paths = _prefixed(f"domain[{config.name}]", config.unknown)
    if live is not None:
        paths.extend(_prefixed(f"domain[{config.name}]/vp:live", live.unknown))
    snapshots: list[SnapshotInfo] = []
    snapshots_el = flags.found.get("snapshots")
    if snapshots_el is not None:
        for key in _attributes(snapshots_el):
            paths.append(f"domain[{config.name}]/vp:snapshots/@{_attr_name(snapshots_el, key)}")
        for child in _elements(snapshots_el):
            if child.tag != "domainsnapshot":
                paths.append(f"domain[{config.name}]/vp:snapshots/{_tag_name(child)}")
                continue
            info, snapshot_paths = _read_snapshot_info(child, config.name)
            snapshots.append(info)
            paths.extend(_prefixed(f"domain[{config.name}]/snapshot[{info.name}]", snapshot_paths))
        _unique([s.name for s in snapshots], f"snapshot of domain {config.name!r}", snapshots_el)
    node_domain = NodeDomain(
        config=config,
        state=state,
        persistent=persistent,
        autostart=flags.flag("autostart", what),
        snapshots=tuple(snapshots),
        id=runtime.get("id"),
        reason=runtime.get("reason"),
        live=live,
    )
    return node_domain, paths


def _read_node_network(el: etree._Element) -> tuple[NodeNetwork, list[str]]:
    flags = _Flags(el, ("active", "transient", "autostart"), "node <network>")
    config = _read_network(el)
    what = f"node network {config.name!r}"
    network = NodeNetwork(
        config=config,
        active=flags.flag("active", what),
        persistent=not flags.flag("transient", what),
        autostart=flags.flag("autostart", what),
    )
    _check_active(network.persistent, network.active, what, el)
    return network, _prefixed(f"network[{config.name}]", config.unknown)


def _read_node_pool(el: etree._Element) -> tuple[NodePool, list[str]]:
    flags = _Flags(el, ("active", "transient", "autostart"), "node <pool>")
    config = _read_pool(el, extra_children=("volume",))
    what = f"node pool {config.name!r}"
    paths = _prefixed(f"pool[{config.name}]", config.unknown)
    volumes: list[VolumeConfig] = []
    for volume_el in _all(el, "volume"):
        volume = _read_volume(volume_el)
        volumes.append(volume)
        paths.extend(_prefixed(f"pool[{config.name}]/volume[{volume.name}]", volume.unknown))
    _unique([v.name for v in volumes], f"volume in pool {config.name!r}", el)
    pool = NodePool(
        config=config,
        active=flags.flag("active", what),
        persistent=not flags.flag("transient", what),
        autostart=flags.flag("autostart", what),
        volumes=tuple(volumes),
    )
    _check_active(pool.persistent, pool.active, what, el)
    return pool, paths


def _read_users(root: etree._Element, unknown: _Unknown) -> list[Credentials]:
    users: list[Credentials] = []
    for auth in _all(root, "auth"):
        unknown.check(auth, "auth", (), ("user",))
        for user in _all(auth, "user"):
            username = _leaf(user, "auth/user", unknown, ("password",))
            if not username:
                raise _error("node <auth><user>: the user name must not be empty", user)
            password = _required_attr(user, "password", "node <auth><user>")
            users.append(Credentials(username=username, password=password))
    _unique([u.username for u in users], "user", root)
    return users


def parse_node(text: str | bytes) -> NodeDocument:
    """Parse the test driver's ``<node>`` state file into a :class:`NodeDocument`.

    The format is described in this module's docstring. Unmodelled parts are
    listed in each nested model's ``unknown`` and all of them are announced in
    one :class:`VirtplugXMLWarning`.

    :param text: the document.
    :returns: the stored node.
    :raises XMLError: malformed or hostile XML, wrong root, any invalid nested
        definition, duplicate names, a transient object that is not active.
    """
    root = _load(text, ("node",), "node")
    unknown = _Unknown()
    unknown.check(root, "", (), _NODE_CHILDREN)
    node_info = _read_node_info(root, unknown)
    paths = list(unknown.paths)
    domains: list[NodeDomain] = []
    networks: list[NodeNetwork] = []
    pools: list[NodePool] = []
    for child in _elements(root):
        if child.tag == "domain":
            node_domain, found = _read_node_domain(child)
            domains.append(node_domain)
        elif child.tag == "network":
            network, found = _read_node_network(child)
            networks.append(network)
        elif child.tag == "pool":
            pool, found = _read_node_pool(child)
            pools.append(pool)
        else:
            continue
        paths.extend(found)
    for kind, names, uuids in (
        ("domain", [d.config.name for d in domains], [d.config.uuid for d in domains]),
        ("network", [n.config.name for n in networks], [n.config.uuid for n in networks]),
        ("pool", [p.config.name for p in pools], [p.config.uuid for p in pools]),
    ):
        _unique(names, f"{kind} name", root)
        _unique([u for u in uuids if u is not None], f"{kind} uuid", root)
    user_unknown = _Unknown()
    users = _read_users(root, user_unknown)
    paths.extend(user_unknown.paths)
    _warn("node document", paths)
    return NodeDocument(
        domains=tuple(domains),
        networks=tuple(networks),
        pools=tuple(pools),
        users=tuple(users),
        node=node_info,
    )


def _vp(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _VP + local)
    if text is not None:
        el.text = text
    return el


def _write_node(doc: NodeDocument) -> etree._Element:
    root = etree.Element("node", nsmap={"vp": TEST_NAMESPACE})
    if doc.node is not None:
        cpu = _sub(root, "cpu")
        facts = doc.node
        _sub(cpu, "mhz", str(facts.mhz))
        _sub(cpu, "model", facts.model)
        _sub(cpu, "active", str(facts.cpus))
        for tag, value in (
            ("nodes", facts.nodes),
            ("sockets", facts.sockets),
            ("cores", facts.cores),
            ("threads", facts.threads),
        ):
            _sub(cpu, tag, str(value))
        _sub(root, "memory", str(facts.memory_kib), unit="KiB")
    for node_domain in doc.domains:
        what = f"domain {node_domain.config.name!r}"
        _check_active(node_domain.persistent, node_domain.state != DomainState.SHUTOFF, what, None)
        el = _write_domain(node_domain.config)
        _vp(el, "runstate", _STATE_NAMES[DomainState(node_domain.state)])
        if node_domain.state == DomainState.SHUTOFF and (
            node_domain.id is not None or node_domain.live is not None
        ):
            raise InvalidArgError(f"{what}: an id or a live configuration needs an active domain")
        if node_domain.id is not None:
            _vp(el, "id", str(node_domain.id))
        if node_domain.reason is not None:
            _vp(el, "reason", str(node_domain.reason))
        if node_domain.live is not None:
            _vp(el, "live").append(_write_domain(node_domain.live))
        if not node_domain.persistent:
            _vp(el, "transient")
        if node_domain.autostart:
            _vp(el, "autostart")
        if node_domain.snapshots:
            snapshots = _vp(el, "snapshots")
            for info in node_domain.snapshots:
                if info.domain != node_domain.config.name:
                    raise InvalidArgError(
                        f"snapshot {info.name!r} belongs to domain {info.domain!r}, "
                        f"not {node_domain.config.name!r}"
                    )
                snapshots.append(_write_snapshot(info))
        root.append(el)
    for network in doc.networks:
        _check_active(network.persistent, network.active, f"network {network.config.name!r}", None)
        el = _write_network(network.config)
        _write_flags(el, network.active, network.persistent, network.autostart)
        root.append(el)
    for pool in doc.pools:
        _check_active(pool.persistent, pool.active, f"pool {pool.config.name!r}", None)
        el = _write_pool(pool.config)
        _write_flags(el, pool.active, pool.persistent, pool.autostart)
        for volume in pool.volumes:
            el.append(_write_volume(volume))
        root.append(el)
    if doc.users:
        auth = _sub(root, "auth")
        for user in doc.users:
            _sub(auth, "user", user.username, password=user.password)
    return root


def _write_flags(el: etree._Element, active: bool, persistent: bool, autostart: bool) -> None:
    if active:
        _vp(el, "active")
    if not persistent:
        _vp(el, "transient")
    if autostart:
        _vp(el, "autostart")


def format_node(doc: NodeDocument) -> str:
    """Write the test driver's ``<node>`` state file.

    The format is described in this module's docstring; everything
    :func:`parse_node` reads is written, including passwords (the file is
    the test driver's private state).

    :param doc: the node document.
    :returns: the document text.
    :raises InvalidArgError: a value cannot be represented in XML, a snapshot
        names another domain, or a transient object is not active.
    """
    with _formatting("node"):
        return _serialize(_write_node(doc))
