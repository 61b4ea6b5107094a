"""Tests for virtplug.xml: the hardened libvirt XML codec."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from virtplug import xml as vx
from virtplug.errors import ErrorCode, InvalidArgError, XMLError
from virtplug.models import (
    ConsoleConfig,
    Credentials,
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
)
from virtplug.records import evolve

DATA = Path(__file__).parent / "data"
UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


@pytest.fixture
def no_unknown() -> Iterator[None]:
    """Fail the test if the codec reports any unmodelled XML."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        yield


def domain_xml(body: str, type_: str = "lxc") -> str:
    return f"<domain type='{type_}'>\n{body}\n</domain>\n"


Parser = Callable[[str | bytes], object]


def xml_error(text: str | bytes, parse: Parser = vx.parse_domain) -> XMLError:
    with pytest.raises(XMLError) as info:
        parse(text)
    assert info.value.code == ErrorCode.XML_ERROR
    assert int(info.value.code) == 27
    return info.value


# ---------------------------------------------------------------------------
# Real libvirt documents
# ---------------------------------------------------------------------------


def test_libvirt_lxc_docs_example_parses() -> None:
    with pytest.warns(vx.VirtplugXMLWarning, match=r"domain 'vm1'.*: clock$"):
        config = vx.parse_domain((DATA / "libvirt-lxc.xml").read_text())
    assert config == DomainConfig(
        name="vm1",
        type="lxc",
        memory_kib=500000,
        vcpus=1,
        os=OSConfig(type="exe", init="/bin/sh"),
        filesystems=(FilesystemConfig(type="mount", source="/opt/vm-1-root", target="/"),),
        interfaces=(InterfaceConfig(type="network", source="default"),),
        consoles=(ConsoleConfig(type="pty"),),
        emulator="/usr/libexec/libvirt_lxc",
        on_poweroff="destroy",
        on_reboot="restart",
        on_crash="destroy",
    )
    assert config.unknown == ("clock",)
    assert config.uuid is None
    assert config.root == FilesystemConfig(type="mount", source="/opt/vm-1-root", target="/")


def test_libvirt_lxc_full_example_parses() -> None:
    with pytest.warns(vx.VirtplugXMLWarning) as record:
        config = vx.parse_domain((DATA / "libvirt-lxc-full.xml").read_bytes())
    assert config.unknown == (
        "resource",
        "idmap",
        "clock",
        "lxc:namespace",
        "vcpu/@placement",
        "features/capabilities",
        "devices/hostdev",
        "devices/filesystem/driver",
        "devices/interface/guest",
    )
    assert len(record) == 1
    assert "resource, idmap, clock, lxc:namespace" in str(record[0].message)
    assert config.name == "web-1"
    assert config.uuid == "8f0e4c3a-2b1d-4e5f-9a6b-7c8d9e0f1a2b"
    assert config.title == "Web front end"
    assert config.description == "nginx in a system container"
    assert config.memory_kib == 1024 * 1024
    assert config.current_memory_kib == 512 * 1024
    assert config.vcpus == 2
    assert config.features == ("privnet",)
    assert config.on_crash == "preserve"
    assert config.os == OSConfig(
        type="exe",
        init="/usr/sbin/nginx",
        initargs=("-g", "daemon off;"),
        initenv=(("NGINX_PORT", "8080"), ("EMPTY", "")),
        initdir="/srv/www",
        inituser="www-data",
        arch="x86_64",
    )
    assert config.metadata == (
        '<app1:foo xmlns:app1="http://app1.org/app1/">fooish</app1:foo>',
        '<app2:bar xmlns:app2="http://app1.org/app2/">'
        '<app2:item kind="x">barish</app2:item></app2:bar>',
    )
    assert config.filesystems == (
        FilesystemConfig(
            type="mount",
            source="/var/lib/lxc/web-1/rootfs",
            target="/",
            accessmode="passthrough",
        ),
        FilesystemConfig(type="mount", source="/srv/content", target="/srv/www", readonly=True),
        FilesystemConfig(
            type="file", source="/var/lib/images/cache.img", target="/var/cache/nginx"
        ),
    )
    assert config.interfaces == (
        InterfaceConfig(
            type="bridge",
            source="br0",
            mac="52:54:00:4a:1b:2c",
            target="veth-web1",
            ips=(("192.168.122.10", 24), ("2001:db8::10", 64)),
        ),
        InterfaceConfig(type="network", source="default"),
    )
    assert config.consoles == (ConsoleConfig(type="pty", target_type="lxc", target_port=0),)


def test_unknown_parts_are_not_written_back() -> None:
    with pytest.warns(vx.VirtplugXMLWarning):
        config = vx.parse_domain((DATA / "libvirt-lxc-full.xml").read_bytes())
    text = vx.format_domain(config)
    for absent in ("clock", "idmap", "resource", "hostdev", "placement", "capabilities", "lxc:"):
        assert absent not in text
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        again = vx.parse_domain(text)
    assert again == config
    assert again.unknown == ()


def test_libvirt_default_network_parses() -> None:
    with pytest.warns(vx.VirtplugXMLWarning, match="mac, forward/nat, bridge/@stp, bridge/@delay$"):
        config = vx.parse_network((DATA / "libvirt-network-default.xml").read_text())
    assert config == NetworkConfig(
        name="default",
        uuid="9a05da11-e96b-47f3-8253-a3a482e445f5",
        bridge="virbr0",
        forward="nat",
        ips=(
            IPConfig(
                address="192.168.122.1",
                prefix=24,
                dhcp=(DHCPRange(start="192.168.122.2", end="192.168.122.254"),),
            ),
        ),
    )
    assert config.unknown == ("mac", "forward/nat", "bridge/@stp", "bridge/@delay")


def test_libvirt_dir_pool_parses() -> None:
    with pytest.warns(vx.VirtplugXMLWarning, match="target/permissions"):
        config = vx.parse_pool((DATA / "libvirt-pool-dir.xml").read_text())
    assert config == PoolConfig(
        name="default",
        uuid="3d6e2b8f-8a3b-4c84-9a0f-5b2d4e6f7a81",
        type="dir",
        target="/var/lib/libvirt/images",
    )
    assert (config.capacity, config.allocation, config.available) == (
        105088212992,
        18467868672,
        86620344320,
    )
    assert config.source is None
    assert config.unknown == ("target/permissions",)


def test_libvirt_volume_parses() -> None:
    with pytest.warns(vx.VirtplugXMLWarning, match="target/permissions"):
        config = vx.parse_volume((DATA / "libvirt-volume.xml").read_text())
    assert config == VolumeConfig(
        name="sparse.img", capacity=10 * 2**30, allocation=3 * 1024, format="raw", type="file"
    )
    assert config.key == "/var/lib/libvirt/images/sparse.img"
    assert config.path == "/var/lib/libvirt/images/sparse.img"


# ---------------------------------------------------------------------------
# Formatting: exact, pretty, stable
# ---------------------------------------------------------------------------

SMALL = DomainConfig(
    name="web",
    uuid=UUID,
    type="docker",
    memory_kib=131072,
    current_memory_kib=65536,
    vcpus=2,
    os=OSConfig(init="/bin/sh", initargs=("-c", "echo hi"), initenv=(("A", "1"),)),
    filesystems=(FilesystemConfig(type="template", source="alpine:3.19", target="/"),),
    interfaces=(InterfaceConfig(type="network", source="default", mac="52:54:00:00:00:01"),),
    consoles=(ConsoleConfig(),),
    features=("privnet",),
    metadata=('<vp:app xmlns:vp="urn:example">x</vp:app>',),
)

SMALL_XML = """\
<domain type="docker" id="7">
  <name>web</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <metadata>
    <vp:app xmlns:vp="urn:example">x</vp:app>
  </metadata>
  <memory unit="KiB">131072</memory>
  <currentMemory unit="KiB">65536</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>echo hi</initarg>
    <initenv name="A">1</initenv>
  </os>
  <features>
    <privnet/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <filesystem type="template">
      <source name="alpine:3.19"/>
      <target dir="/"/>
    </filesystem>
    <interface type="network">
      <source network="default"/>
      <mac address="52:54:00:00:00:01"/>
    </interface>
    <console type="pty"/>
  </devices>
</domain>
"""


def test_format_domain_exact_output(no_unknown: None) -> None:
    assert vx.format_domain(SMALL, id=7) == SMALL_XML
    assert vx.parse_domain(SMALL_XML) == SMALL
    assert vx.format_domain(vx.parse_domain(SMALL_XML)) == SMALL_XML.replace(' id="7"', "")


def test_format_domain_rejects_bad_id() -> None:
    with pytest.raises(InvalidArgError, match="positive"):
        vx.format_domain(SMALL, id=0)


@pytest.mark.parametrize(
    "config",
    [
        evolve(SMALL, title="bad\x01title"),
        evolve(SMALL, features=("not a tag",)),
        evolve(SMALL, metadata=("<a>unclosed",)),
        evolve(SMALL, metadata=("plain text",)),
    ],
)
def test_format_domain_unrepresentable_values(config: DomainConfig) -> None:
    with pytest.raises(InvalidArgError) as info:
        vx.format_domain(config)
    assert info.value.code == ErrorCode.INVALID_ARG


def test_format_capabilities_exact_and_round_trip(no_unknown: None) -> None:
    caps = HostCapabilities(
        arch="x86_64", domain_types=("docker", "test"), os_types=("exe",), features=("cgroups-v2",)
    )
    text = vx.format_capabilities(caps)
    assert text == (
        "<capabilities>\n"
        "  <host>\n"
        "    <cpu>\n"
        "      <arch>x86_64</arch>\n"
        "    </cpu>\n"
        "    <features>\n"
        '      <feature name="cgroups-v2"/>\n'
        "    </features>\n"
        "  </host>\n"
        "  <guest>\n"
        "    <os_type>exe</os_type>\n"
        '    <arch name="x86_64">\n'
        '      <domain type="docker"/>\n'
        '      <domain type="test"/>\n'
        "    </arch>\n"
        "  </guest>\n"
        "</capabilities>\n"
    )
    assert vx.parse_capabilities(text) == caps


def test_public_api_is_exported() -> None:
    for name in (
        "MAX_DOCUMENT_BYTES",
        "VirtplugXMLWarning",
        "parse_domain",
        "format_domain",
        "parse_device",
        "format_device",
        "parse_network",
        "format_network",
        "parse_pool",
        "format_pool",
        "parse_volume",
        "format_volume",
        "parse_snapshot",
        "format_snapshot",
        "format_capabilities",
        "parse_node",
        "format_node",
    ):
        assert name in vx.__all__
    assert vx.MAX_DOCUMENT_BYTES == 1024 * 1024
    assert issubclass(vx.VirtplugXMLWarning, UserWarning)


# ---------------------------------------------------------------------------
# Hostile XML
# ---------------------------------------------------------------------------


def test_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doc = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE domain [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        "<domain type='lxc'><name>&x;</name></domain>"
    )
    err = xml_error(doc)
    assert "DOCTYPE" in err.message
    assert err.details["line"] == 2
    assert "TOP-SECRET-VALUE" not in err.message
    assert "TOP-SECRET-VALUE" not in repr(err.details)


def test_etc_passwd_entity_is_refused() -> None:
    doc = (
        '<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<domain type='lxc'><name>&x;</name></domain>"
    )
    err = xml_error(doc)
    assert "root:" not in err.message
    assert "not allowed" in err.message


def test_billion_laughs_is_refused() -> None:
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        refs = f"&lol{level - 1};" * 10
        entities.append(f'<!ENTITY lol{level} "{refs}">')
    doc = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n'
        + "\n".join(entities)
        + "\n]>\n<domain type='lxc'><name>&lol9;</name></domain>"
    )
    err = xml_error(doc)
    assert "DOCTYPE and entity declarations are not allowed" in err.message
    assert err.details["line"] == 2


@pytest.mark.parametrize(
    "doc",
    [
        "<!DOCTYPE domain><domain type='lxc'><name>a</name></domain>",
        '<!DOCTYPE domain SYSTEM "file:///etc/passwd"><domain type="lxc"><name>a</name></domain>',
        '<!DOCTYPE domain PUBLIC "-//x//y" "http://127.0.0.1:9/x.dtd">'
        "<domain type='lxc'><name>a</name></domain>",
    ],
)
def test_any_doctype_is_refused(doc: str) -> None:
    assert "DOCTYPE" in xml_error(doc).message


def test_no_network_access_for_external_dtd_or_parameter_entity() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    try:
        for doc in (
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>'
            "<domain type='lxc'><name>a</name></domain>",
            f'<!DOCTYPE domain SYSTEM "http://127.0.0.1:{port}/d.dtd">'
            "<domain type='lxc'><name>a</name></domain>",
        ):
            xml_error(doc)
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()


def test_doctype_in_utf16_document_is_refused() -> None:
    doc = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE d [<!ENTITY x "y">]><domain type="lxc"><name>&x;</name></domain>'
    )
    assert "DOCTYPE" in xml_error(doc.encode("utf-16")).message


@pytest.mark.parametrize(
    ("doc", "line"),
    [
        ("\ufeff<!DOCTYPE d><domain type='lxc'/>", 1),
        ('<?xml version="1.0"?>\n<!-- c\n -->\n<?pi x?>\n<!DOCTYPE d><domain type="lxc"/>', 5),
    ],
)
def test_doctype_after_prolog_misc_is_refused(doc: str, line: int) -> None:
    for text in (doc, doc.encode("utf-8"), doc.encode("utf-16"), doc.encode("utf-32")):
        err = xml_error(text)
        assert "DOCTYPE" in err.message
        assert err.details["line"] == line


def test_doctype_text_in_the_body_is_not_a_false_alarm(no_unknown: None) -> None:
    doc = "<domain type='lxc'><!-- <!DOCTYPE x> --><name>&lt;!DOCTYPE</name></domain>"
    assert vx.parse_domain(doc).name == "<!DOCTYPE"


def test_doctype_backstop_after_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should the pre-scan miss a DOCTYPE (an encoding it cannot read), the
    # parsed document is still refused.
    monkeypatch.setattr(vx, "_prolog_doctype_line", lambda text: None)
    doc = '<!DOCTYPE d [<!ENTITY x "y">]><domain type="lxc"><name>&x;</name></domain>'
    assert "DOCTYPE and entity declarations are not allowed" in xml_error(doc).message


def test_undeclared_entity_is_malformed() -> None:
    err = xml_error("<domain type='lxc'><name>&x;</name></domain>")
    assert "Entity 'x' not defined" in err.message
    assert err.details["line"] == 1


@pytest.mark.parametrize("as_bytes", [False, True])
def test_oversize_document_is_refused_before_parsing(as_bytes: bool) -> None:
    padding = " " * vx.MAX_DOCUMENT_BYTES
    doc = domain_xml("<name>a</name>" + padding)
    err = xml_error(doc.encode() if as_bytes else doc)
    assert "larger than the limit of 1048576 bytes" in err.message
    assert err.details["limit"] == 1048576
    assert err.details["size"] == len(doc.encode())


def test_size_limit_counts_utf8_bytes_and_is_read_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = domain_xml("<name>" + "é" * 60 + "</name>")  # 60 chars, 120 bytes
    monkeypatch.setattr(vx, "MAX_DOCUMENT_BYTES", len(doc) + 10)
    err = xml_error(doc)
    assert err.details["size"] == len(doc.encode()) == len(doc) + 60
    monkeypatch.setattr(vx, "MAX_DOCUMENT_BYTES", len(doc.encode()))
    assert vx.parse_domain(doc).name == "é" * 60


def test_malformed_document_reports_line_number() -> None:
    doc = "<domain type='lxc'>\n  <name>a</name>\n  <memory>1</memory\n</domain>\n"
    err = xml_error(doc)
    assert err.details["line"] == 4
    assert err.message.startswith("malformed domain XML at line 4, column 1:")


def test_mismatched_tag_reports_its_line() -> None:
    doc = "<domain type='lxc'>\n\n\n  <name>a</nam>\n</domain>"
    err = xml_error(doc)
    assert err.details["line"] == 4
    assert "line 4" in err.message


@pytest.mark.parametrize("doc", ["", "   ", "just text", "<domain"])
def test_not_xml_at_all(doc: str) -> None:
    assert xml_error(doc).message.startswith("malformed domain XML at line 1")


def test_too_deep_document_is_refused() -> None:
    doc = domain_xml("<name>a</name><metadata>" + "<a>" * 300 + "</a>" * 300 + "</metadata>")
    assert "depth" in xml_error(doc).message


def test_processing_instructions_and_comments_are_ignored(no_unknown: None) -> None:
    doc = (
        '<?xml version="1.0"?>\n<?xml-stylesheet href="evil.xsl"?>\n'
        "<domain type='lxc'><?foo bar?><!-- note --><name>a<!-- x -->b</name></domain>"
    )
    assert vx.parse_domain(doc).name == "ab"


def test_encodings() -> None:
    body = "<domain type='lxc'><name>café</name></domain>"
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    assert vx.parse_domain(latin.encode("latin-1")).name == "café"
    assert vx.parse_domain(latin).name == "café"  # str: the declaration is moot
    utf16 = '<?xml version="1.0" encoding="UTF-16"?>' + body
    assert vx.parse_domain(utf16.encode("utf-16")).name == "café"
    assert (
        "not valid Unicode" in xml_error("<domain type='lxc'><name>\ud800</name></domain>").message
    )


def test_wrong_root_element() -> None:
    err = xml_error("<network>\n<name>a</name></network>")
    assert err.message == "expected <domain> root element, found <network> (line 1)"
    assert err.details["line"] == 1
    assert "found <{urn:x}domain>" in xml_error("<domain xmlns='urn:x' type='lxc'/>").message
    assert "expected <network>" in xml_error("<domain/>", vx.parse_network).message
    assert "expected <pool>" in xml_error("<volume/>", vx.parse_pool).message
    assert "expected <volume>" in xml_error("<pool/>", vx.parse_volume).message
    assert "expected <node>" in xml_error("<domain/>", vx.parse_node).message
    assert "expected <domainsnapshot>" in xml_error("<snapshot/>", vx.parse_snapshot).message
    err = xml_error("<disk type='file'/>", vx.parse_device)
    assert err.message.startswith(
        "expected <filesystem> or <interface> or <console> root element, found <disk>"
    )


def test_not_text_is_invalid_arg() -> None:
    with pytest.raises(InvalidArgError):
        vx.parse_domain(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def test_missing_name() -> None:
    err = xml_error("<domain type='lxc'>\n  <memory>1024</memory>\n</domain>")
    assert err.message == "domain definition is missing its <name> (line 1)"
    assert "missing its <name>" in xml_error("<network/>", vx.parse_network).message
    assert "missing its <name>" in xml_error("<pool type='dir'/>", vx.parse_pool).message
    assert "missing its <name>" in xml_error("<volume/>", vx.parse_volume).message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        (".", "is not allowed"),
        ("..", "is not allowed"),
        ("a/b", "must not contain '/'"),
        ("a\tb", "control characters"),
        ("a\nb", "control characters"),
        ("a\x7fb", "control characters"),
        ("a\x85b", "control characters"),
        ("x" * 256, "256 characters long, more than 255"),
    ],
)
def test_invalid_names(name: str, reason: str) -> None:
    doc = f"<domain type='lxc'>\n  <name>{name}</name>\n</domain>"
    err = xml_error(doc)
    assert reason in err.message
    assert err.details["line"] == 2
    for parse, root in (
        (vx.parse_network, "<network>"),
        (vx.parse_pool, "<pool type='dir'>"),
        (vx.parse_volume, "<volume>"),
    ):
        tag = root[1:].split()[0].rstrip(">")
        text = f"{root}<name>{name}</name><capacity>1</capacity></{tag}>"
        assert reason in xml_error(text, parse).message


def test_nul_in_name_cannot_even_be_written() -> None:
    assert "malformed" in xml_error("<domain type='lxc'><name>a&#0;b</name></domain>").message


def test_name_of_255_characters_is_fine() -> None:
    assert vx.parse_domain(domain_xml(f"<name>{'x' * 255}</name>")).name == "x" * 255


def test_uuid_is_normalised() -> None:
    doc = domain_xml("<name>a</name><uuid> 6695EB01F6A4830479AA97F2502E193F </uuid>")
    assert vx.parse_domain(doc).uuid == UUID


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "6695eb01-f6a4-8304-79aa-97f2502e193", "zz"])
def test_bad_uuid(bad: str) -> None:
    err = xml_error(f"<domain type='lxc'>\n<name>a</name>\n<uuid>{bad}</uuid></domain>")
    assert err.message == f"domain has a malformed UUID {bad!r} (line 3)"
    assert err.details["line"] == 3
    net = xml_error(f"<network><name>n</name><uuid>{bad}</uuid></network>", vx.parse_network)
    assert "network has a malformed UUID" in net.message


@pytest.mark.parametrize(
    ("value", "unit", "kib"),
    [
        ("500000", None, 500000),
        ("1", "b", 1),
        ("1025", "bytes", 2),
        ("2048", "B", 2),
        ("1", "k", 1),
        ("3", "KiB", 3),
        ("1000", "KB", 977),
        ("1", "M", 1024),
        ("2", "MiB", 2048),
        ("1", "MB", 977),
        ("1", "G", 1048576),
        ("1", "gib", 1048576),
        ("1", "GB", 976563),
        ("1", "T", 1073741824),
        ("1", "TiB", 1073741824),
        ("1", "TB", 976562500),
        (" 7 ", "KiB", 7),
    ],
)
def test_memory_units(value: str, unit: str | None, kib: int) -> None:
    unit_attr = "" if unit is None else f" unit='{unit}'"
    doc = domain_xml(f"<name>a</name><memory{unit_attr}>{value}</memory>")
    assert vx.parse_domain(doc).memory_kib == kib


@pytest.mark.parametrize("unit", ["furlongs", "KiBB", "Ki", "X", "kb2", "iB"])
def test_unknown_units(unit: str) -> None:
    err = xml_error(domain_xml(f"<name>a</name>\n<memory unit='{unit}'>1</memory>"))
    assert err.message == f"domain <memory>: unknown unit {unit!r} (line 3)"
    pool = f"<pool type='dir'><name>p</name><capacity unit='{unit}'>1</capacity></pool>"
    assert "unknown unit" in xml_error(pool, vx.parse_pool).message


@pytest.mark.parametrize(
    ("element", "reason"),
    [
        ("<memory>0</memory>", "domain <memory>: must be greater than zero"),
        ("<memory>-1</memory>", "domain <memory>: expected a non-negative integer, got '-1'"),
        ("<memory>12MB</memory>", "expected a non-negative integer, got '12MB'"),
        ("<memory>1.5</memory>", "expected a non-negative integer"),
        ("<memory>1_000</memory>", "expected a non-negative integer"),
        ("<memory></memory>", "expected a non-negative integer, got ''"),
        ("<memory unit='E'>16</memory>", "is too large"),
        ("<vcpu>0</vcpu>", "domain <vcpu>: must be greater than zero"),
        ("<vcpu>two</vcpu>", "domain <vcpu>: expected a non-negative integer"),
        ("<vcpu>-2</vcpu>", "domain <vcpu>: expected a non-negative integer"),
        ("<currentMemory>0</currentMemory>", "domain <currentMemory>: must be greater than zero"),
    ],
)
def test_bad_memory_and_vcpu(element: str, reason: str) -> None:
    assert reason in xml_error(domain_xml("<name>a</name>" + element)).message


def test_current_memory_above_memory() -> None:
    doc = domain_xml(
        "<name>a</name>\n<memory unit='MiB'>1</memory>\n<currentMemory>1025</currentMemory>"
    )
    err = xml_error(doc)
    assert err.message == (
        "domain <currentMemory> (1025 KiB) is larger than <memory> (1024 KiB) (line 4)"
    )


def test_current_memory_rounds_up() -> None:
    doc = domain_xml(
        "<name>a</name><memory unit='b'>4097</memory><currentMemory unit='b'>4097</currentMemory>"
    )
    config = vx.parse_domain(doc)
    assert (config.memory_kib, config.current_memory_kib) == (5, 5)


def test_defaults_fill_absent_elements(no_unknown: None) -> None:
    config = vx.parse_domain("<domain type='test'><name>a</name></domain>")
    assert config == DomainConfig(name="a", type="test")
    assert config.memory_kib == 65536
    assert config.os == OSConfig()


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("<domain><name>a</name></domain>", "<domain>: missing required attribute 'type'"),
        ("<domain type=''><name>a</name></domain>", "attribute 'type' must not be empty"),
        ("<domain type='lxc' id='x'><name>a</name></domain>", "id 'x' is not an integer"),
        (domain_xml("<name>a</name><name>b</name>"), "element <name> appears more than once"),
        (domain_xml("<name>a</name><os><init>/x</init></os>"), "<os> must contain a <type>"),
        (domain_xml("<name>a</name><on_crash>explode</on_crash>"), "unknown action 'explode'"),
        (
            domain_xml("<name>a</name><devices><filesystem type='ram'/></devices>"),
            "unsupported type 'ram'",
        ),
        (
            domain_xml(
                "<name>a</name><devices><filesystem type='mount'>"
                "<target dir='/'/></filesystem></devices>"
            ),
            "needs a <source>",
        ),
        (
            domain_xml(
                "<name>a</name><devices><filesystem type='mount'><source dir='/x'/>"
                "<target dir='rel'/></filesystem></devices>"
            ),
            "must be an absolute path",
        ),
        (
            domain_xml(
                "<name>a</name><devices><filesystem type='volume'><source volume='v'/>"
                "<target dir='/'/></filesystem></devices>"
            ),
            "missing required attribute 'pool'",
        ),
        (
            domain_xml("<name>a</name><devices><interface type='user'/></devices>"),
            "unsupported type 'user'",
        ),
        (
            domain_xml("<name>a</name><devices><interface type='network'/></devices>"),
            "needs <source network=...>",
        ),
        (
            domain_xml(
                "<name>a</name><devices><interface type='ethernet'>"
                "<mac address='zz:00:00:00:00:00'/></interface></devices>"
            ),
            "is not a MAC address",
        ),
        (
            domain_xml(
                "<name>a</name><devices><interface type='ethernet'>"
                "<ip address='10.0.0.1' prefix='33'/></interface></devices>"
            ),
            "prefix 33 is too long",
        ),
        (
            domain_xml(
                "<name>a</name><devices><interface type='ethernet'>"
                "<ip address='10.0.0.300'/></interface></devices>"
            ),
            "is not an IP address",
        ),
        (
            domain_xml("<name>a</name><devices><console><target port='x'/></console></devices>"),
            "expected a non-negative integer",
        ),
        (
            "<domain type='test' file='other.xml'/>",
            "external <domain file=...> references are not supported",
        ),
    ],
)
def test_invalid_domains(doc: str, reason: str) -> None:
    err = xml_error(doc)
    assert reason in err.message
    assert isinstance(err.details["line"], int)


def test_semantic_errors_carry_the_element_line() -> None:
    doc = domain_xml(
        "  <name>a</name>\n  <devices>\n    <interface type='bridge'>\n"
        "      <source bridge='br0'/>\n      <mac address='nope'/>\n    </interface>\n  </devices>"
    )
    err = xml_error(doc)
    assert err.details["line"] == 6
    assert err.message.endswith("is not a MAC address (line 6)")


# ---------------------------------------------------------------------------
# Unknown XML is reported
# ---------------------------------------------------------------------------


def test_unknown_elements_and_attributes_reported() -> None:
    doc = domain_xml(
        "<name weird='1'>a</name><clock offset='utc'/><memory dumpCore='on'>1024</memory>"
        "<os><type machine='m'>exe</type><initgroup>g</initgroup></os>"
        "<features><privnet/><other>x</other></features>"
        "<devices><graphics type='vnc'/><disk/><graphics type='spice'/>"
        "<interface type='network'><source network='n' portgroup='p'/><link state='up'/>"
        "</interface><console type='pty'><source path='/dev/pts/1'/></console></devices>"
        "<metadata a='1'/>"
    )
    with pytest.warns(vx.VirtplugXMLWarning) as record:
        config = vx.parse_domain(doc)
    assert config.unknown == (
        "clock",
        "name/@weird",
        "memory/@dumpCore",
        "os/initgroup",
        "os/type/@machine",
        "features/other",
        "metadata/@a",
        "devices/graphics",
        "devices/disk",
        "devices/interface/link",
        "devices/interface/source/@portgroup",
        "devices/console/source",
    )
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("domain 'a': unmodelled XML ignored and not written back: clock")
    assert record[0].filename == __file__  # points at the caller
    assert config.features == ("privnet",)
    # ``unknown`` does not take part in equality.
    assert config == evolve(config, unknown=())


def test_unknown_parts_of_device_network_pool_volume_snapshot() -> None:
    with pytest.warns(vx.VirtplugXMLWarning, match="interface/alias"):
        vx.parse_device(
            "<interface type='bridge'><source bridge='b'/><alias name='x'/></interface>"
        )
    with pytest.warns(vx.VirtplugXMLWarning, match="dns"):
        assert vx.parse_network("<network><name>n</name><dns/></network>").unknown == ("dns",)
    with pytest.warns(vx.VirtplugXMLWarning, match=r"source/dir"):
        pool = vx.parse_pool(
            "<pool type='netfs'><name>p</name><source><dir path='/x'/></source></pool>"
        )
    assert pool.unknown == ("source/dir",)
    with pytest.warns(vx.VirtplugXMLWarning, match="backingStore"):
        vol = vx.parse_volume(
            "<volume><name>v</name><capacity>1</capacity><backingStore/></volume>"
        )
    assert vol.unknown == ("backingStore",)
    with pytest.warns(vx.VirtplugXMLWarning, match="memory, disks"):
        snap = vx.parse_snapshot("<domainsnapshot><name>s</name><memory/><disks/></domainsnapshot>")
    assert snap == SnapshotConfig(name="s")


# ---------------------------------------------------------------------------
# Devices, networks, pools, volumes, snapshots: examples
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device",
    [
        FilesystemConfig(type="template", source="busybox", target="/"),
        FilesystemConfig(type="mount", source="/srv", target="/srv", readonly=True),
        FilesystemConfig(type="bind", source="/a", target="/b", accessmode="mapped"),
        FilesystemConfig(type="file", source="/img.raw", target="/data"),
        FilesystemConfig(type="volume", source="vol1", target="/data", pool="default"),
        InterfaceConfig(type="ethernet", target="veth0", ips=(("fe80::1", 64),)),
        InterfaceConfig(type="bridge", source="br0", mac="02:00:00:00:00:aa", model="veth"),
        ConsoleConfig(type="pty", target_type="lxc", target_port=1),
        ConsoleConfig(),
    ],
)
def test_device_round_trip(device: object, no_unknown: None) -> None:
    text = vx.format_device(device)  # type: ignore[arg-type]
    assert vx.parse_device(text) == device


def test_device_exact_output() -> None:
    device = FilesystemConfig(type="volume", source="vol1", target="/data", pool="default")
    assert vx.format_device(device) == (
        '<filesystem type="volume">\n'
        '  <source pool="default" volume="vol1"/>\n'
        '  <target dir="/data"/>\n'
        "</filesystem>\n"
    )
    with pytest.raises(InvalidArgError, match="not a device"):
        vx.format_device("nope")  # type: ignore[arg-type]


def test_filesystem_type_defaults_to_mount() -> None:
    device = vx.parse_device("<filesystem><source dir='/x'/><target dir='/y'/></filesystem>")
    assert device == FilesystemConfig(type="mount", source="/x", target="/y")


def test_interface_ip_without_prefix_is_a_host_address() -> None:
    device = vx.parse_device(
        "<interface type='ethernet'><ip address='10.0.0.5'/><ip address='fd00::5'/></interface>"
    )
    assert isinstance(device, InterfaceConfig)
    assert device.ips == (("10.0.0.5", 32), ("fd00::5", 128))


def test_network_variants(no_unknown: None) -> None:
    config = vx.parse_network(
        "<network><name>iso</name><forward/><mtu size='9000'/><domain name='example.test'/>"
        "<ip address='fd00::1' prefix='64' family='ipv6'>"
        "<dhcp><range start='fd00::10' end='fd00::ff'/></dhcp></ip></network>"
    )
    assert config == NetworkConfig(
        name="iso",
        forward="nat",
        mtu=9000,
        domain="example.test",
        ips=(IPConfig("fd00::1", 64, "ipv6", (DHCPRange("fd00::10", "fd00::ff"),)),),
    )
    assert vx.parse_network(vx.format_network(config)) == config


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("<ip address='10.0.0.1' prefix='24' netmask='255.0.0.0'/>", "not both"),
        ("<ip address='10.0.0.1' netmask='255.0.255.0'/>", "is not a valid netmask"),
        ("<ip address='10.0.0.1'/>", "needs a 'prefix' or 'netmask'"),
        ("<ip address='fd00::1' netmask='255.0.0.0'/>", "only valid for IPv4"),
        ("<ip address='10.0.0.1' prefix='8' family='ipv6'/>", "does not match"),
        (
            "<ip address='10.0.0.1' prefix='8'><dhcp><range start='10.0.0.9' end='10.0.0.2'/>"
            "</dhcp></ip>",
            "is after end",
        ),
        (
            "<ip address='10.0.0.1' prefix='8'><dhcp><range start='fd00::1' end='fd00::2'/>"
            "</dhcp></ip>",
            "is not ipv4",
        ),
        ("<forward mode='teleport'/>", "unknown mode 'teleport'"),
        ("<mtu size='0'/>", "must be greater than zero"),
    ],
)
def test_invalid_networks(ip: str, reason: str) -> None:
    err = xml_error(f"<network><name>n</name>{ip}</network>", vx.parse_network)
    assert reason in err.message


def test_pool_and_volume_exact_output(no_unknown: None) -> None:
    pool = PoolConfig(
        name="p", uuid=UUID, type="dir", target="/srv/p", source="src", capacity=10, available=4
    )
    assert vx.format_pool(pool) == (
        '<pool type="dir">\n'
        "  <name>p</name>\n"
        f"  <uuid>{UUID}</uuid>\n"
        '  <capacity unit="bytes">10</capacity>\n'
        '  <allocation unit="bytes">0</allocation>\n'
        '  <available unit="bytes">4</available>\n'
        "  <source>\n"
        "    <name>src</name>\n"
        "  </source>\n"
        "  <target>\n"
        "    <path>/srv/p</path>\n"
        "  </target>\n"
        "</pool>\n"
    )
    parsed = vx.parse_pool(vx.format_pool(pool))
    assert parsed == pool
    assert (parsed.capacity, parsed.allocation, parsed.available) == (10, 0, 4)
    volume = VolumeConfig(name="v", capacity=2**30, format="qcow2", key="k", path="/srv/p/v")
    assert vx.format_volume(volume) == (
        '<volume type="file">\n'
        "  <name>v</name>\n"
        "  <key>k</key>\n"
        '  <capacity unit="bytes">1073741824</capacity>\n'
        "  <target>\n"
        "    <path>/srv/p/v</path>\n"
        '    <format type="qcow2"/>\n'
        "  </target>\n"
        "</volume>\n"
    )
    parsed_volume = vx.parse_volume(vx.format_volume(volume))
    assert parsed_volume == volume
    assert (parsed_volume.key, parsed_volume.path) == ("k", "/srv/p/v")


@pytest.mark.parametrize(
    ("value", "unit", "size"),
    [("5", None, 5), ("1", "KB", 1000), ("1", "k", 1024), ("2", "GiB", 2 * 2**30), ("0", "T", 0)],
)
def test_storage_units(value: str, unit: str | None, size: int) -> None:
    unit_attr = "" if unit is None else f" unit='{unit}'"
    vol = vx.parse_volume(f"<volume><name>v</name><capacity{unit_attr}>{value}</capacity></volume>")
    assert vol.capacity == size


def test_invalid_pools_and_volumes() -> None:
    assert "missing required attribute 'type'" in (
        xml_error("<pool><name>p</name></pool>", vx.parse_pool).message
    )
    assert (
        "expected a non-negative integer, got '-1'"
        in xml_error(
            "<pool type='dir'><name>p</name><capacity>-1</capacity></pool>", vx.parse_pool
        ).message
    )
    assert (
        "missing its <capacity>"
        in xml_error("<volume><name>v</name></volume>", vx.parse_volume).message
    )
    assert (
        "too large"
        in xml_error(
            "<volume><name>v</name><capacity unit='E'>16</capacity></volume>", vx.parse_volume
        ).message
    )


def test_snapshot_request(no_unknown: None) -> None:
    assert vx.parse_snapshot("<domainsnapshot/>") == SnapshotConfig()
    assert vx.parse_snapshot(
        "<domainsnapshot><name>s1</name><description>before upgrade</description></domainsnapshot>"
    ) == SnapshotConfig(name="s1", description="before upgrade")
    assert (
        "snapshot name 'a/b'"
        in xml_error("<domainsnapshot><name>a/b</name></domainsnapshot>", vx.parse_snapshot).message
    )


def test_format_snapshot_exact_and_readable_back(no_unknown: None) -> None:
    info = SnapshotInfo(
        name="s1",
        domain="web",
        creation_time=1700000000.0,
        state=DomainState.RUNNING,
        description="first",
        config=DomainConfig(name="web", type="lxc"),
    )
    text = vx.format_snapshot(info)
    assert text.startswith(
        "<domainsnapshot>\n"
        "  <name>s1</name>\n"
        "  <description>first</description>\n"
        "  <state>running</state>\n"
        "  <creationTime>1700000000</creationTime>\n"
        '  <domain type="lxc">\n'
        "    <name>web</name>\n"
    )
    # A create request may be a dumped snapshot: the runtime fields are ignored.
    assert vx.parse_snapshot(text) == SnapshotConfig(name="s1", description="first")
    assert vx.parse_snapshot_info(text) == info
    bare = evolve(info, config=None, creation_time=1.25, state=DomainState.SHUTOFF)
    bare_text = vx.format_snapshot(bare)
    assert "<creationTime>1.25</creationTime>" in bare_text
    assert "<domain>\n    <name>web</name>\n  </domain>" in bare_text
    assert vx.parse_snapshot_info(bare_text) == bare


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<name>s</name><creationTime>1</creationTime><domain><name>d</name></domain>", "<state>"),
        ("<name>s</name><state>running</state><domain><name>d</name></domain>", "<creationTime>"),
        ("<name>s</name><state>running</state><creationTime>1</creationTime>", "<domain>"),
        (
            "<name>s</name><state>dancing</state><creationTime>1</creationTime>"
            "<domain><name>d</name></domain>",
            "unknown state 'dancing'",
        ),
        (
            "<name>s</name><state>running</state><creationTime>soon</creationTime>"
            "<domain><name>d</name></domain>",
            "is not a time",
        ),
    ],
)
def test_invalid_snapshot_info(body: str, reason: str) -> None:
    err = xml_error(f"<domainsnapshot>{body}</domainsnapshot>", vx.parse_snapshot_info)
    assert reason in err.message


# ---------------------------------------------------------------------------
# The test driver's node document
# ---------------------------------------------------------------------------


def expected_node() -> NodeDocument:
    test_config = DomainConfig(
        name="test",
        uuid=UUID,
        type="test",
        memory_kib=256 * 1024,
        vcpus=2,
        os=OSConfig(init="/sbin/init"),
        filesystems=(FilesystemConfig(type="template", source="busybox", target="/"),),
        interfaces=(InterfaceConfig(type="network", source="default", mac="52:54:00:00:00:01"),),
    )
    snapshot = SnapshotInfo(
        name="clean",
        domain="test",
        creation_time=1700000000.0,
        state=DomainState.RUNNING,
        description="freshly booted",
        config=DomainConfig(name="test", uuid=UUID, type="test", memory_kib=128 * 1024),
    )
    return NodeDocument(
        domains=(
            NodeDomain(
                config=test_config,
                state=DomainState.RUNNING,
                autostart=True,
                snapshots=(snapshot,),
            ),
            NodeDomain(
                config=DomainConfig(name="scratch", type="docker"),
                state=DomainState.PAUSED,
                persistent=False,
            ),
        ),
        networks=(
            NodeNetwork(
                config=NetworkConfig(
                    name="default",
                    uuid="dd8fe884-6c02-601e-7551-cca97df1c5df",
                    bridge="virbr0",
                    forward="nat",
                    ips=(
                        IPConfig(
                            "192.168.122.1",
                            24,
                            dhcp=(DHCPRange("192.168.122.2", "192.168.122.254"),),
                        ),
                    ),
                ),
                active=True,
                autostart=True,
            ),
        ),
        pools=(
            NodePool(
                config=PoolConfig(
                    name="default-pool",
                    uuid="dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
                    type="dir",
                    target="/default-pool",
                ),
                active=True,
                volumes=(VolumeConfig(name="disk1.img", capacity=512 * 2**20, format="raw"),),
            ),
        ),
        users=(Credentials("alice", "s3cret"), Credentials("bob", "")),
        node=NodeInfo(model="x86_64", memory_kib=16 * 2**20, cpus=8, mhz=2400, cores=4, threads=2),
    )


def test_node_fixture_parses(no_unknown: None) -> None:
    doc = vx.parse_node((DATA / "test-node.xml").read_bytes())
    assert doc == expected_node()
    pool = doc.pools[0]
    assert pool.config.capacity == pool.config.available == 100 * 2**30
    assert pool.volumes[0].key == pool.volumes[0].path == "/default-pool/disk1.img"
    assert [u.password for u in doc.users] == ["s3cret", ""]


def test_node_round_trip_and_stability(no_unknown: None) -> None:
    doc = vx.parse_node((DATA / "test-node.xml").read_text())
    text = vx.format_node(doc)
    assert text.startswith('<node xmlns:vp="https://virtplug.dev/xmlns/test/1">\n  <cpu>\n')
    assert "    <vp:runstate>running</vp:runstate>\n    <vp:autostart/>\n" in text
    assert "<vp:transient/>" in text
    assert '<user password="s3cret">alice</user>' in text
    again = vx.parse_node(text)
    assert again == doc
    assert vx.format_node(again) == text
    assert again.pools[0].volumes[0].path == "/default-pool/disk1.img"
    assert again.pools[0].config.capacity == 100 * 2**30


def test_empty_node(no_unknown: None) -> None:
    assert vx.format_node(NodeDocument()) == (
        '<node xmlns:vp="https://virtplug.dev/xmlns/test/1"/>\n'
    )
    assert vx.parse_node("<node/>") == NodeDocument()


def test_node_runstate_accepts_libvirt_numbers(no_unknown: None) -> None:
    doc = vx.parse_node(
        f"<node xmlns:t='{vx.TEST_NAMESPACE}'><domain type='test'><name>a</name>"
        "<t:runstate>3</t:runstate></domain></node>"
    )
    assert doc.domains[0].state == DomainState.PAUSED


NODE_NS = f"xmlns:vp='{vx.TEST_NAMESPACE}'"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "<domain type='test'><name>a</name></domain><domain type='lxc'><name>a</name></domain>",
            "duplicate domain name 'a'",
        ),
        (
            f"<domain type='test'><name>a</name><uuid>{UUID}</uuid></domain>"
            f"<domain type='test'><name>b</name><uuid>{UUID.upper()}</uuid></domain>",
            "duplicate domain uuid",
        ),
        (
            "<network><name>n</name></network><network><name>n</name></network>",
            "duplicate network name 'n'",
        ),
        (
            "<pool type='dir'><name>p</name><volume><name>v</name><capacity>1</capacity></volume>"
            "<volume><name>v</name><capacity>2</capacity></volume></pool>",
            "duplicate volume in pool 'p' 'v'",
        ),
        (
            "<auth><user password='x'>a</user><user password='y'>a</user></auth>",
            "duplicate user 'a'",
        ),
        ("<auth><user>a</user></auth>", "missing required attribute 'password'"),
        ("<auth><user password='x'></user></auth>", "user name must not be empty"),
        (
            "<domain type='test'><name>a</name><vp:transient/></domain>",
            "is transient but not active",
        ),
        ("<network><name>n</name><vp:transient/></network>", "is transient but not active"),
        (
            "<domain type='test'><name>a</name><vp:runstate>flying</vp:runstate></domain>",
            "unknown state 'flying'",
        ),
        ("<domain type='test'><name>a</name><vp:bogus/></domain>", "unknown test-driver element"),
        (
            "<domain type='test'><name>a</name><vp:autostart/><vp:autostart/></domain>",
            "appears more than once",
        ),
        ("<network><name>n</name><vp:active>yes</vp:active></network>", "must be empty"),
        ("<cpu><model>m</model><active>1</active></cpu>", "<memory> is missing"),
        ("<cpu><model>m</model></cpu><memory>1</memory>", "<cpu> needs <model> and <active>"),
        ("<domain file='other.xml'/>", "external <domain file=...> references"),
        (
            "<domain type='test'><name>a</name><vp:runstate>running</vp:runstate><vp:snapshots>"
            "<domainsnapshot><name>s</name><state>running</state><creationTime>1</creationTime>"
            "<domain><name>a</name></domain></domainsnapshot>"
            "<domainsnapshot><name>s</name><state>running</state><creationTime>2</creationTime>"
            "<domain><name>a</name></domain></domainsnapshot></vp:snapshots></domain>",
            "duplicate snapshot of domain 'a' 's'",
        ),
    ],
)
def test_invalid_node_documents(body: str, reason: str) -> None:
    err = xml_error(f"<node {NODE_NS}>{body}</node>", vx.parse_node)
    assert reason in err.message


def test_node_unknown_parts_reported() -> None:
    doc = (
        f"<node {NODE_NS}><device/><domain type='test'><name>a</name><clock/></domain>"
        "<pool type='dir'><name>p</name><volume><name>v</name><capacity>1</capacity>"
        "<physical>1</physical></volume></pool></node>"
    )
    with pytest.warns(vx.VirtplugXMLWarning) as record:
        node = vx.parse_node(doc)
    assert str(record[0].message) == (
        "node document: unmodelled XML ignored and not written back: device, "
        "domain[a]/clock, pool[p]/volume[v]/physical"
    )
    assert node.domains[0].config.unknown == ("clock",)
    assert node.pools[0].volumes[0].unknown == ("physical",)


def test_format_node_refuses_inconsistent_state() -> None:
    transient_off = NodeDocument(
        domains=(NodeDomain(config=DomainConfig(name="a"), persistent=False),)
    )
    with pytest.raises(InvalidArgError, match="transient but not active"):
        vx.format_node(transient_off)
    foreign = NodeDocument(
        domains=(
            NodeDomain(
                config=DomainConfig(name="a"),
                snapshots=(SnapshotInfo("s", "b", 1.0, DomainState.SHUTOFF),),
            ),
        )
    )
    with pytest.raises(InvalidArgError, match="belongs to domain 'b'"):
        vx.format_node(foreign)


# ---------------------------------------------------------------------------
# Property-based round trips
# ---------------------------------------------------------------------------

WORD = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
PATH = st.from_regex(r"/[A-Za-z0-9_./-]{0,24}", fullmatch=True)
# Text XML can hold: no control characters (but tab, newline, CR), no surrogates,
# no non-characters.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")), st.sampled_from("\t\n\r")
    ),
    max_size=30,
)
NAME = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"), exclude_characters="/"),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in (".", ".."))
UUIDS = st.uuids().map(str)
MAC = st.lists(st.integers(0, 255), min_size=6, max_size=6).map(
    lambda octets: ":".join(f"{o:02x}" for o in octets)
)
ACTIONS = st.sampled_from(["destroy", "restart", "preserve", "rename-restart"])
IPV4 = st.ip_addresses(v=4)
IPV6 = st.ip_addresses(v=6)


@st.composite
def filesystems(draw: st.DrawFn) -> FilesystemConfig:
    fs_type = draw(st.sampled_from(["template", "mount", "bind", "file", "volume"]))
    source = draw(NAME if fs_type in ("template", "volume") else PATH)
    return FilesystemConfig(
        type=fs_type,
        source=source,
        target=draw(PATH),
        pool=draw(NAME) if fs_type == "volume" else None,
        readonly=draw(st.booleans()),
        accessmode=draw(st.sampled_from([None, "passthrough", "mapped", "squash"])),
    )


@st.composite
def interfaces(draw: st.DrawFn) -> InterfaceConfig:
    if_type = draw(st.sampled_from(["network", "bridge", "ethernet"]))
    ips = draw(
        st.lists(
            st.one_of(
                st.tuples(IPV4.map(str), st.integers(0, 32)),
                st.tuples(IPV6.map(str), st.integers(0, 128)),
            ),
            max_size=3,
        )
    )
    return InterfaceConfig(
        type=if_type,
        source=None if if_type == "ethernet" else draw(NAME),
        mac=draw(st.none() | MAC),
        target=draw(st.none() | WORD),
        model=draw(st.none() | WORD),
        ips=tuple(ips),
    )


CONSOLES = st.builds(
    ConsoleConfig,
    type=st.sampled_from(["pty", "file"]),
    target_type=st.none() | WORD,
    target_port=st.none() | st.integers(0, 1000),
)
METADATA = st.builds(
    lambda prefix, tag, text: f'<{prefix}:{tag} xmlns:{prefix}="urn:{tag}">{text}</{prefix}:{tag}>',
    WORD.filter(lambda w: not w.lower().startswith("xml")),
    WORD,
    st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=1),
)


@st.composite
def domains(draw: st.DrawFn) -> DomainConfig:
    memory = draw(st.integers(1, 2**40))
    return DomainConfig(
        name=draw(NAME),
        uuid=draw(st.none() | UUIDS),
        type=draw(st.sampled_from(["lxc", "docker", "test"])),
        memory_kib=memory,
        current_memory_kib=draw(st.none() | st.integers(1, memory)),
        vcpus=draw(st.integers(1, 4096)),
        os=OSConfig(
            type="exe",
            init=draw(st.none() | TEXT),
            initargs=tuple(draw(st.lists(TEXT, max_size=4))),
            initenv=tuple(draw(st.lists(st.tuples(WORD, TEXT), max_size=3))),
            initdir=draw(st.none() | PATH),
            inituser=draw(st.none() | WORD),
            arch=draw(st.none() | st.sampled_from(["x86_64", "aarch64"])),
        ),
        filesystems=tuple(draw(st.lists(filesystems(), max_size=3))),
        interfaces=tuple(draw(st.lists(interfaces(), max_size=3))),
        consoles=tuple(draw(st.lists(CONSOLES, max_size=2))),
        emulator=draw(st.none() | PATH),
        title=draw(st.none() | TEXT),
        description=draw(st.none() | TEXT),
        on_poweroff=draw(ACTIONS),
        on_reboot=draw(ACTIONS),
        on_crash=draw(ACTIONS),
        features=tuple(draw(st.lists(WORD, max_size=3, unique=True))),
        metadata=tuple(draw(st.lists(METADATA, max_size=2))),
    )


@st.composite
def network_ips(draw: st.DrawFn) -> IPConfig:
    version = draw(st.sampled_from([4, 6]))
    addresses = IPV4 if version == 4 else IPV6
    ranges = []
    for _ in range(draw(st.integers(0, 2))):
        low, high = sorted(draw(st.lists(addresses, min_size=2, max_size=2)))
        ranges.append(DHCPRange(str(low), str(high)))
    return IPConfig(
        address=str(draw(addresses)),
        prefix=draw(st.integers(0, 32 if version == 4 else 128)),
        family="ipv4" if version == 4 else "ipv6",
        dhcp=tuple(ranges),
    )


NETWORKS = st.builds(
    NetworkConfig,
    name=NAME,
    uuid=st.none() | UUIDS,
    bridge=st.none() | WORD,
    forward=st.sampled_from([None, "nat", "route", "bridge", "open"]),
    ips=st.lists(network_ips(), max_size=2).map(tuple),
    mtu=st.none() | st.integers(1, 65535),
    domain=st.none() | WORD,
)
SIZES = st.integers(0, 2**64 - 1)
POOLS = st.builds(
    PoolConfig,
    name=NAME,
    uuid=st.none() | UUIDS,
    type=WORD,
    target=st.none() | PATH,
    source=st.none() | TEXT,
    capacity=SIZES,
    allocation=SIZES,
    available=SIZES,
)
VOLUMES = st.builds(
    VolumeConfig,
    name=NAME,
    capacity=SIZES,
    allocation=st.none() | SIZES,
    format=st.none() | WORD,
    type=WORD,
    key=st.none() | TEXT,
    path=st.none() | PATH,
)
STATES = st.sampled_from(list(DomainState))
TIMES = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def snapshots(draw: st.DrawFn, domain: str | None = None) -> SnapshotInfo:
    config = draw(st.none() | domains())
    if domain is None:
        domain = config.name if config is not None else draw(NAME)
    return SnapshotInfo(
        name=draw(NAME),
        domain=domain,
        creation_time=draw(TIMES),
        state=draw(STATES),
        description=draw(st.none() | TEXT),
        config=config,
    )


@st.composite
def node_domains(draw: st.DrawFn) -> NodeDomain:
    config = draw(domains())
    persistent = draw(st.booleans())
    states = STATES if persistent else STATES.filter(lambda s: s != DomainState.SHUTOFF)
    infos = draw(st.lists(snapshots(domain=config.name), max_size=2, unique_by=lambda s: s.name))
    return NodeDomain(
        config=config,
        state=draw(states),
        persistent=persistent,
        autostart=draw(st.booleans()),
        snapshots=tuple(infos),
    )


@st.composite
def node_flags(draw: st.DrawFn) -> tuple[bool, bool, bool]:
    persistent = draw(st.booleans())
    active = True if not persistent else draw(st.booleans())
    return active, persistent, draw(st.booleans())


@st.composite
def node_networks(draw: st.DrawFn) -> NodeNetwork:
    active, persistent, autostart = draw(node_flags())
    return NodeNetwork(draw(NETWORKS), active, persistent, autostart)


@st.composite
def node_pools(draw: st.DrawFn) -> NodePool:
    active, persistent, autostart = draw(node_flags())
    volumes = draw(st.lists(VOLUMES, max_size=3, unique_by=lambda v: v.name))
    return NodePool(draw(POOLS), active, persistent, autostart, tuple(volumes))


def unique_uuid(obj: NodeDomain | NodeNetwork | NodePool) -> str:
    return obj.config.uuid or f"none-{obj.config.name}"


NODES = st.builds(
    NodeDocument,
    domains=st.lists(
        node_domains(), max_size=3, unique_by=(lambda d: d.config.name, unique_uuid)
    ).map(tuple),
    networks=st.lists(
        node_networks(), max_size=2, unique_by=(lambda n: n.config.name, unique_uuid)
    ).map(tuple),
    pools=st.lists(node_pools(), max_size=2, unique_by=(lambda p: p.config.name, unique_uuid)).map(
        tuple
    ),
    users=st.lists(
        st.builds(Credentials, username=NAME, password=TEXT),
        max_size=3,
        unique_by=lambda u: u.username,
    ).map(tuple),
    node=st.none()
    | st.builds(
        NodeInfo,
        model=TEXT,
        memory_kib=st.integers(1, 2**50),
        cpus=st.integers(0, 1024),
        mhz=st.integers(0, 10000),
        nodes=st.integers(0, 8),
        sockets=st.integers(0, 8),
        cores=st.integers(0, 64),
        threads=st.integers(0, 8),
    ),
)

PROPERTY = settings(max_examples=75, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@PROPERTY
@given(domains(), st.none() | st.integers(1, 2**31))
def test_domain_round_trip(config: DomainConfig, domain_id: int | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        text = vx.format_domain(config, id=domain_id)
        parsed = vx.parse_domain(text)
    assert parsed == config
    assert parsed.unknown == ()
    assert vx.format_domain(parsed, id=domain_id) == text


@PROPERTY
@given(st.one_of(filesystems(), interfaces(), CONSOLES))
def test_device_round_trip_property(
    device: FilesystemConfig | InterfaceConfig | ConsoleConfig,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        assert vx.parse_device(vx.format_device(device)) == device


@PROPERTY
@given(NETWORKS)
def test_network_round_trip(config: NetworkConfig) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        text = vx.format_network(config)
        assert vx.parse_network(text) == config
    assert vx.format_network(vx.parse_network(text)) == text


@PROPERTY
@given(POOLS)
def test_pool_round_trip(config: PoolConfig) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        parsed = vx.parse_pool(vx.format_pool(config))
    assert parsed == config
    assert (parsed.capacity, parsed.allocation, parsed.available) == (
        config.capacity,
        config.allocation,
        config.available,
    )


@PROPERTY
@given(VOLUMES)
def test_volume_round_trip(config: VolumeConfig) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        parsed = vx.parse_volume(vx.format_volume(config))
    assert parsed == config
    assert (parsed.key, parsed.path) == (config.key, config.path)


@PROPERTY
@given(snapshots())
def test_snapshot_round_trip(info: SnapshotInfo) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        text = vx.format_snapshot(info)
        assert vx.parse_snapshot_info(text) == info
        assert vx.parse_snapshot(text) == SnapshotConfig(info.name, info.description)


@PROPERTY
@given(
    st.builds(
        HostCapabilities,
        arch=WORD,
        domain_types=st.lists(WORD, min_size=1, max_size=3, unique=True).map(tuple),
        os_types=st.lists(WORD, min_size=1, max_size=2, unique=True).map(tuple),
        features=st.lists(TEXT, max_size=3).map(tuple),
    )
)
def test_capabilities_round_trip(caps: HostCapabilities) -> None:
    assert vx.parse_capabilities(vx.format_capabilities(caps)) == caps


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(NODES)
def test_node_round_trip_property(doc: NodeDocument) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", vx.VirtplugXMLWarning)
        text = vx.format_node(doc)
        parsed = vx.parse_node(text)
    assert parsed == doc
    assert [u.password for u in parsed.users] == [u.password for u in doc.users]
    for got, want in zip(parsed.pools, doc.pools, strict=True):
        assert got.config.capacity == want.config.capacity
        assert [(v.key, v.path) for v in got.volumes] == [(v.key, v.path) for v in want.volumes]
    assert vx.format_node(parsed) == text
