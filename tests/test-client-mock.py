#!/usr/bin/python3
"""gpuvirtctl against a mock of the org.gpuvirt API (python3-dbusmock).

A private system bus carries a mock gpuvirtd whose objects carry every
property of dbus/*.xml, with the types the XML gives; the test runs
gpuvirtctl on it and checks the table, the JSON and the exit codes. The
daemon itself is tested end to end elsewhere.

Environment: GPUVIRTCTL (the binary), GPUVIRT_DBUS_DIR (dbus/ of the
source tree). A missing python3-dbusmock fails the test: never a skip.
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

try:
    import dbus
    import dbusmock
except ImportError as e:
    sys.exit(f'test-client-mock: {e}: install python3-dbusmock and python3-dbus '
             '(tools/deps.sh) and run with /usr/bin/python3')

CTL = os.environ.get('GPUVIRTCTL', '')
DBUS_DIR = os.environ.get('GPUVIRT_DBUS_DIR', '')
BUS = 'org.gpuvirt'
MANAGER = '/org/gpuvirt'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'
TIMEOUT = 10


def dev_path(address):
    return '/org/gpuvirt/devices/pci_' + address.replace(':', '_').replace('.', '_')


def mdev_path(uuid):
    return '/org/gpuvirt/mdevs/' + uuid.replace('-', '_')


# ---- the contract: property types from the XML files ----

def contract_types():
    """{interface: {property: signature}} from dbus/*.xml."""
    types = {}
    for name in sorted(os.listdir(DBUS_DIR)):
        if not name.endswith('.xml'):
            continue
        root = ET.parse(os.path.join(DBUS_DIR, name)).getroot()
        for iface in root.iter('interface'):
            types[iface.get('name')] = {p.get('name'): p.get('type') for p in iface.iter('property')}
    return types


def split_types(sig):
    """'sa{sv}(ii)' -> ['s', 'a{sv}', '(ii)']."""
    out, i = [], 0
    while i < len(sig):
        j = i
        while sig[j] == 'a':
            j += 1
        if sig[j] in '({':
            depth = 0
            while True:
                depth += sig[j] in '({'
                depth -= sig[j] in ')}'
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        out.append(sig[i:j])
        i = j
    return out


BASIC = {'y': dbus.Byte, 'b': dbus.Boolean, 'n': dbus.Int16, 'q': dbus.UInt16,
         'i': dbus.Int32, 'u': dbus.UInt32, 'x': dbus.Int64, 't': dbus.UInt64,
         'd': dbus.Double, 's': dbus.String, 'o': dbus.ObjectPath, 'g': dbus.Signature}


def typed(sig, value):
    """A Python value as the dbus-python value of signature SIG; a 'v'
    takes a (signature, value) pair."""
    if sig in BASIC:
        return BASIC[sig](value)
    if sig == 'v':
        return typed(*value)
    if sig.startswith('a{'):
        k, v = split_types(sig[2:-1])
        return dbus.Dictionary({typed(k, a): typed(v, b) for a, b in value.items()}, signature=k + v)
    if sig.startswith('a'):
        return dbus.Array([typed(sig[1:], x) for x in value], signature=sig[1:])
    if sig.startswith('('):
        parts = split_types(sig[1:-1])
        return dbus.Struct([typed(s, x) for s, x in zip(parts, value)], signature=sig[1:-1])
    raise ValueError(sig)


# ---- the mock host ----

GPU_A = '0000:01:00.0'   # a desktop GPU that shows the console, group shared with a NIC
AUDIO_A = '0000:01:00.1'
NIC_FOREIGN = '0000:05:00.0'
NIC_OTHER = '0000:00:1f.6'
GPU_B = '0000:41:00.0'   # vendor-VFIO SR-IOV GPU
VF_USED = '0000:41:00.4'
VF_FREE = '0000:41:00.5'
GPU_C = '0000:81:00.0'   # mdev on the physical function
MDEV = '5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f'

GROUP_A = [GPU_A, AUDIO_A, NIC_FOREIGN]
L40S_24Q = ('1155', 'NVIDIA L40S-24Q', 24576, 1,
            {'series': ('s', 'Q'), 'short_name': ('s', 'L40S-24Q'), 'max_instance': ('u', 2)})
T4_1B = ('nvidia-222', 'GRID T4-1B', 1024, 15,
         {'description': ('s', 'num_heads=4, frl_config=45, framebuffer=1024M, max_instance=16'),
          'device_api': ('s', 'vfio-pci'), 'max_instance': ('u', 16),
          'series': ('s', 'B'), 'short_name': ('s', 'T4-1B')})


def device(address, vendor, model, cls, vendor_name, device_name, kind, **kw):
    props = {
        'Address': address, 'VendorId': vendor, 'DeviceId': model,
        'SubsystemVendorId': 0, 'SubsystemDeviceId': 0, 'Class': cls, 'Revision': 0xa1,
        'VendorName': vendor_name, 'DeviceName': device_name, 'Kind': kind, 'Managed': True,
        'Driver': '', 'DriverOverride': '', 'OriginalDriver': '', 'IommuGroup': -1,
        'IommuGroupMembers': [], 'GroupVerdict': 'none', 'ForeignGroupMembers': [],
        'Companions': [], 'Gpu': '/', 'PhysicalFunction': '/', 'VfioGroupNode': '',
        'VfioDeviceNode': '', 'BootVga': False, 'NumaNode': -1, 'Holders': [],
        'State': 'host', 'StateMessage': '', 'VgpuFramework': 'none',
    }
    for key, value in kw.items():
        assert key in props, key
        props[key] = value
    return props


def host():
    """{path: {interface: {property: value}}} of the mock host."""
    paths = lambda addresses: [dev_path(a) for a in addresses]  # noqa: E731
    nvidia = 'NVIDIA Corporation'
    objs = {
        dev_path(NIC_OTHER): {'org.gpuvirt.Device': device(
            NIC_OTHER, 0x8086, 0x15bb, 0x020000, 'Intel Corporation', 'Ethernet Connection (7) I219-LM',
            'other', Managed=False, Driver='e1000e', IommuGroup=7,
            IommuGroupMembers=paths([NIC_OTHER]), GroupVerdict='viable')},
        dev_path(GPU_A): {'org.gpuvirt.Device': device(
            GPU_A, 0x10de, 0x2204, 0x030000, nvidia, 'GA102 [GeForce RTX 3090]', 'gpu',
            SubsystemVendorId=0x1458, SubsystemDeviceId=0x403b, Driver='nvidia', IommuGroup=12,
            IommuGroupMembers=paths(GROUP_A), GroupVerdict='shared',
            ForeignGroupMembers=paths([NIC_FOREIGN]), Companions=paths([AUDIO_A]),
            BootVga=True, NumaNode=0,
            Holders=[(1234, 'Xorg', '/dev/nvidia0'), (1301, 'gnome-shell', '/dev/dri/card1')])},
        dev_path(AUDIO_A): {'org.gpuvirt.Device': device(
            AUDIO_A, 0x10de, 0x1aef, 0x040300, nvidia, 'GA102 High Definition Audio Controller',
            'companion', Driver='snd_hda_intel', IommuGroup=12, IommuGroupMembers=paths(GROUP_A),
            GroupVerdict='shared', ForeignGroupMembers=paths([NIC_FOREIGN]), Gpu=dev_path(GPU_A))},
        dev_path(NIC_FOREIGN): {'org.gpuvirt.Device': device(
            NIC_FOREIGN, 0x8086, 0x1539, 0x020000, 'Intel Corporation', 'I211 Gigabit Network Connection',
            'other', Managed=False, Driver='igb', IommuGroup=12, IommuGroupMembers=paths(GROUP_A),
            GroupVerdict='shared')},
        dev_path(GPU_B): {
            'org.gpuvirt.Device': device(
                GPU_B, 0x10de, 0x26b9, 0x030200, nvidia, 'AD102GL [L40S]', 'gpu', Driver='nvidia',
                OriginalDriver='nvidia', IommuGroup=30, IommuGroupMembers=paths([GPU_B]),
                GroupVerdict='viable', NumaNode=1, VgpuFramework='vendor-vfio'),
            'org.gpuvirt.Sriov': {'TotalVfs': 32, 'NumVfs': 2, 'VirtualFunctions': paths([VF_USED, VF_FREE]),
                                  'Pending': False},
            'org.gpuvirt.Vgpu': {'Framework': 'vendor-vfio', 'Types': [L40S_24Q], 'CurrentType': '',
                                 'CurrentTypeName': '', 'Mdevs': []}},
        dev_path(VF_USED): {
            'org.gpuvirt.Device': device(
                VF_USED, 0x10de, 0x26b9, 0x030200, nvidia, 'AD102GL [L40S]', 'vf', Driver='nvidia',
                IommuGroup=31, IommuGroupMembers=paths([VF_USED]), GroupVerdict='viable',
                Gpu=dev_path(GPU_B), PhysicalFunction=dev_path(GPU_B), VfioGroupNode='/dev/vfio/31',
                VfioDeviceNode='/dev/vfio/devices/vfio0', NumaNode=1, State='vfio',
                Holders=[(4321, 'qemu-system-x86', '/dev/vfio/31')], VgpuFramework='vendor-vfio'),
            'org.gpuvirt.Vgpu': {'Framework': 'vendor-vfio', 'Types': [], 'CurrentType': '1155',
                                 'CurrentTypeName': 'NVIDIA L40S-24Q', 'Mdevs': []}},
        dev_path(VF_FREE): {
            'org.gpuvirt.Device': device(
                VF_FREE, 0x10de, 0x26b9, 0x030200, nvidia, 'AD102GL [L40S]', 'vf', Driver='nvidia',
                IommuGroup=32, IommuGroupMembers=paths([VF_FREE]), GroupVerdict='viable',
                Gpu=dev_path(GPU_B), PhysicalFunction=dev_path(GPU_B), NumaNode=1,
                VgpuFramework='vendor-vfio'),
            'org.gpuvirt.Vgpu': {'Framework': 'vendor-vfio', 'Types': [L40S_24Q], 'CurrentType': '',
                                 'CurrentTypeName': '', 'Mdevs': []}},
        dev_path(GPU_C): {
            'org.gpuvirt.Device': device(
                GPU_C, 0x10de, 0x1eb8, 0x030200, nvidia, 'TU104GL [Tesla T4]', 'gpu', Driver='nvidia',
                IommuGroup=40, IommuGroupMembers=paths([GPU_C]), GroupVerdict='viable',
                VgpuFramework='mdev-pf', StateMessage='mdev parent'),
            'org.gpuvirt.Vgpu': {'Framework': 'mdev-pf', 'Types': [T4_1B], 'CurrentType': '',
                                 'CurrentTypeName': '', 'Mdevs': [mdev_path(MDEV)]}},
        mdev_path(MDEV): {'org.gpuvirt.Mdev': {
            'Uuid': MDEV, 'Type': 'nvidia-222', 'TypeName': 'GRID T4-1B', 'Parent': dev_path(GPU_C),
            'IommuGroup': 50, 'VfioGroupNode': '/dev/vfio/50', 'VfioDeviceNode': '',
            'Holders': [(777, 'qemu-system-x86', '/dev/vfio/50')]}},
    }
    managed = sorted(p for p, i in objs.items()
                     if 'org.gpuvirt.Device' in i and i['org.gpuvirt.Device']['Managed'])
    manager = {
        'Version': '0.1.0', 'ApiVersion': 1, 'Root': '/',
        'KernelCommandLine': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on',
        'IommuPresent': True, 'IommuKind': 'intel', 'InterruptRemapping': True,
        'VfioPciLoaded': True, 'NvidiaVgpuManager': True, 'Devices': managed,
        'Mdevs': [mdev_path(MDEV)], 'ConfigFiles': ['/etc/gpuvirt/gpuvirt.conf'],
        'ConfigErrors': [('/etc/gpuvirt/conf.d/10-lab.conf', 3, 'passthrough/devices',
                          'unknown device 0000:0c:00.0')],
        'BootPlan': [('passthrough', VF_USED, 'bind vfio-pci', 'done', '')],
        'BootPlanState': 'done',
    }
    return manager, objs


# GetDevice as the contract describes it: full or short address, or a path.
GET_DEVICE = r'''
import re
arg = args[0]
if arg.startswith('error:'):
    raise dbus.exceptions.DBusException('mock failure for the test', name=arg[6:])
if arg.startswith('/'):
    path = arg
else:
    a = arg.lower()
    if re.fullmatch(r'[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]', a):
        a = '0000:' + a
    if not re.fullmatch(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]', a):
        raise dbus.exceptions.DBusException(repr(arg) + ' is not a PCI address or device path',
                                            name='org.freedesktop.DBus.Error.InvalidArgs')
    path = '/org/gpuvirt/devices/pci_' + a.replace(':', '_').replace('.', '_')
if not path.startswith('/org/gpuvirt/devices/') or path not in objects:
    raise dbus.exceptions.DBusException('no PCI function ' + arg, name='org.gpuvirt.Error.NoSuchDevice')
ret = dbus.ObjectPath(path)
'''


class ClientMockTest(dbusmock.DBusTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_system_bus()
        cls.bus = cls.get_dbus(system_bus=True)
        cls.types = contract_types()

    def setUp(self):
        self.mock_proc = subprocess.Popen(
            [sys.executable, '-m', 'dbusmock', '--system', '--is-object-manager',
             BUS, MANAGER, 'org.gpuvirt.Manager'], stdout=subprocess.DEVNULL)
        self.addCleanup(self.stop_mock)
        self.wait_for_bus_object(BUS, MANAGER, system_bus=True)
        self.mock = self.mock_object(MANAGER)
        self.manager, self.objects = host()
        self.mock.AddProperties('org.gpuvirt.Manager', self.typed_props('org.gpuvirt.Manager', self.manager))
        self.mock.AddMethod('org.gpuvirt.Manager', 'GetDevice', 's', 'o', GET_DEVICE)
        for path, ifaces in self.objects.items():
            self.add_object(path, ifaces)

    def stop_mock(self):
        if self.mock_proc.poll() is None:
            self.mock_proc.terminate()
            self.mock_proc.wait(TIMEOUT)

    def mock_object(self, path):
        return dbus.Interface(self.bus.get_object(BUS, path), dbusmock.MOCK_IFACE)

    def typed_props(self, iface, props):
        want = self.types[iface]
        self.assertEqual(set(props), set(want), f'mock {iface} must carry exactly the XML properties')
        return dbus.Dictionary({k: typed(want[k], v) for k, v in props.items()}, signature='sv')

    def add_object(self, path, ifaces):
        first, *rest = ifaces
        self.mock.AddObject(path, first, self.typed_props(first, ifaces[first]), [])
        for iface in rest:
            self.mock_object(path).AddProperties(iface, self.typed_props(iface, ifaces[iface]))

    # ---- running the client ----

    def ctl(self, *args, code=0):
        env = dict(os.environ, LC_ALL='C', COLUMNS='60')
        p = subprocess.run([CTL, *args], capture_output=True, text=True, env=env, timeout=TIMEOUT)
        self.assertNotIn('runtime error', p.stderr)   # UBSan
        self.assertNotIn('ERROR: AddressSanitizer', p.stderr)
        self.assertEqual(p.returncode, code, f'gpuvirtctl {" ".join(args)}: {p.stderr}')
        return p

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args).stdout)

    @staticmethod
    def parse_table(text):
        """Rows as dicts, cutting each line at the header's column starts."""
        lines = text.rstrip('\n').split('\n')
        header = lines[0]
        names = header.split()
        starts = [m.start() for m in re.finditer(r'\S+', header)]
        rows = []
        for line in lines[1:]:
            cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
            rows.append(dict(zip(names, cells)))
        return names, rows

    # ---- the facts the table and the JSON must both show ----

    def device_props(self, address):
        return self.objects[dev_path(address)]['org.gpuvirt.Device']

    def expected_row(self, p):
        desc = f"{p['VendorName']} {p['DeviceName']}".strip()
        return {
            'ADDRESS': p['Address'], 'CLASS': f"{p['Class'] >> 8:04x}",
            'VENDOR': f"{p['VendorId']:04x}", 'DEVICE': f"{p['DeviceId']:04x}",
            'DESCRIPTION': desc or '-',
            'IOMMU': str(p['IommuGroup']) if p['IommuGroup'] >= 0 else '-',
            'VFIO': p['VfioGroupNode'] or p['VfioDeviceNode'] or '-',
            'DRIVER': p['Driver'] or '-',
            'VGPU': '-' if p['VgpuFramework'] in ('', 'none') else p['VgpuFramework'],
            'STATE': p['State'],
        }

    def row_from_json(self, d):
        """The table row the JSON implies: both outputs carry the same facts."""
        return {
            'ADDRESS': d['Address'], 'CLASS': d['Class'][:4], 'VENDOR': d['VendorId'],
            'DEVICE': d['DeviceId'],
            'DESCRIPTION': f"{d['VendorName']} {d['DeviceName']}".strip() or '-',
            'IOMMU': str(d['IommuGroup']) if d['IommuGroup'] >= 0 else '-',
            'VFIO': d['VfioGroupNode'] or d['VfioDeviceNode'] or '-',
            'DRIVER': d['Driver'] or '-',
            'VGPU': '-' if d['VgpuFramework'] in ('', 'none') else d['VgpuFramework'],
            'STATE': d['State'],
        }

    def addresses(self, managed_only):
        return sorted(i['org.gpuvirt.Device']['Address'] for i in self.objects.values()
                      if 'org.gpuvirt.Device' in i
                      and (i['org.gpuvirt.Device']['Managed'] or not managed_only))

    def check_json_device(self, d):
        """Every XML property under its name, values reshaped as README.md says."""
        path = dev_path(d['Address'])
        ifaces = self.objects[path]
        p = ifaces['org.gpuvirt.Device']
        self.assertEqual(d['Path'], path)
        self.assertEqual(set(d) - {'Path', 'Sriov', 'Vgpu', 'Related', 'MdevDetails'},
                         set(self.types['org.gpuvirt.Device']))
        for key in ('VendorId', 'DeviceId', 'SubsystemVendorId', 'SubsystemDeviceId'):
            self.assertEqual(d[key], f'{p[key]:04x}')
        self.assertEqual(d['Class'], f"{p['Class']:06x}")
        self.assertEqual(d['Revision'], f"{p['Revision']:02x}")
        for key in ('VendorName', 'DeviceName', 'Kind', 'Managed', 'Driver', 'DriverOverride',
                    'OriginalDriver', 'IommuGroup', 'GroupVerdict', 'VfioGroupNode',
                    'VfioDeviceNode', 'BootVga', 'NumaNode', 'State', 'StateMessage', 'VgpuFramework'):
            self.assertEqual(d[key], p[key], key)
        for key in ('IommuGroupMembers', 'ForeignGroupMembers', 'Companions'):
            self.assertEqual(d[key], [a for a in self.addr_of(p[key])], key)
        for key in ('Gpu', 'PhysicalFunction'):
            self.assertEqual(d[key], None if p[key] == '/' else self.addr_of([p[key]])[0], key)
        self.assertEqual(d['Holders'], [{'Pid': a, 'Command': b, 'Node': c} for a, b, c in p['Holders']])
        if 'org.gpuvirt.Sriov' in ifaces:
            s = ifaces['org.gpuvirt.Sriov']
            self.assertEqual(d['Sriov'], {'TotalVfs': s['TotalVfs'], 'NumVfs': s['NumVfs'],
                                          'VirtualFunctions': self.addr_of(s['VirtualFunctions']),
                                          'Pending': s['Pending']})
        else:
            self.assertIsNone(d['Sriov'])
        if 'org.gpuvirt.Vgpu' in ifaces:
            v = ifaces['org.gpuvirt.Vgpu']
            self.assertEqual(set(d['Vgpu']), set(self.types['org.gpuvirt.Vgpu']))
            self.assertEqual(d['Vgpu']['Framework'], v['Framework'])
            self.assertEqual(d['Vgpu']['CurrentType'], v['CurrentType'])
            self.assertEqual(d['Vgpu']['CurrentTypeName'], v['CurrentTypeName'])
            self.assertEqual(d['Vgpu']['Mdevs'], [m.split('/')[-1].replace('_', '-') for m in v['Mdevs']])
            self.assertEqual(d['Vgpu']['Types'], [
                {'Id': t[0], 'Name': t[1], 'FramebufferMiB': t[2], 'Available': t[3],
                 'Details': {k: x for k, (_, x) in t[4].items()}} for t in v['Types']])
        else:
            self.assertIsNone(d['Vgpu'])

    @staticmethod
    def addr_of(paths):
        return [p.split('pci_')[1].replace('_', ':', 2).replace('_', '.') for p in paths]

    # ---- list ----

    def test_list_table(self):
        names, rows = self.parse_table(self.ctl('list').stdout)
        self.assertEqual(names, ['ADDRESS', 'CLASS', 'VENDOR', 'DEVICE', 'DESCRIPTION',
                                 'IOMMU', 'VFIO', 'DRIVER', 'VGPU', 'STATE'])
        self.assertEqual([r['ADDRESS'] for r in rows], self.addresses(managed_only=True))
        for row in rows:
            self.assertEqual(row, self.expected_row(self.device_props(row['ADDRESS'])))
        # not cut to COLUMNS when stdout is a pipe
        self.assertIn('NVIDIA Corporation GA102 High Definition Audio Controller', self.ctl('list').stdout)

    def test_list_all(self):
        _, rows = self.parse_table(self.ctl('list', '--all').stdout)
        self.assertEqual([r['ADDRESS'] for r in rows], self.addresses(managed_only=False))
        nic = next(r for r in rows if r['ADDRESS'] == NIC_OTHER)
        self.assertEqual(nic, self.expected_row(self.device_props(NIC_OTHER)))
        self.assertEqual(nic['CLASS'], '0200')

    def test_list_json(self):
        for args, managed_only in ((['list', '--json'], True), (['list', '--all', '--json=pretty'], False)):
            out = self.ctl(*args).stdout
            self.assertGreater(out.count('\n'), 10, 'pretty JSON is indented over lines')
            data = json.loads(out)
            self.assertEqual(list(data), ['Devices'])
            self.assertEqual([d['Address'] for d in data['Devices']], self.addresses(managed_only))
            for d in data['Devices']:
                self.check_json_device(d)

    def test_list_json_matches_table(self):
        _, rows = self.parse_table(self.ctl('list', '--all').stdout)
        devices = self.ctl_json('list', '--all', '--json=short')['Devices']
        self.assertEqual(rows, [self.row_from_json(d) for d in devices])

    def test_list_json_short(self):
        out = self.ctl('list', '--json=short').stdout
        self.assertEqual(out.count('\n'), 1)
        self.assertEqual(json.loads(out), self.ctl_json('list', '--json'))

    def test_list_empty(self):
        for path in list(self.objects):
            self.mock.RemoveObject(path)
        p = self.ctl('list')
        self.assertEqual(p.stdout, '')
        self.assertIn('list --all', p.stderr)
        self.assertEqual(self.ctl_json('list', '--json'), {'Devices': []})

    # ---- show ----

    @staticmethod
    def fields(text):
        """'Label: value' lines up to the first blank line; labels are
        right-aligned, so every ': ' is in one column, and continuation
        lines are indented past it."""
        lines = text.split('\n')
        col = lines[0].index(': ')
        out, last = {}, None
        for line in lines:
            if not line.strip():
                break
            if line[:col].strip() and line[col:col + 2] == ': ':
                last = line[:col].strip()
                out[last] = line[col + 2:]
            else:
                assert last and line.startswith(' ' * (col + 2)), line
                out[last] += '\n' + line.strip()
        return out

    def test_show_text(self):
        out = self.ctl('show', '01:00.0').stdout
        f = self.fields(out)
        self.assertEqual(f['Address'], GPU_A)
        self.assertEqual(f['Object'], dev_path(GPU_A))
        self.assertEqual(f['Vendor'], '10de NVIDIA Corporation')
        self.assertEqual(f['Device'], '2204 GA102 [GeForce RTX 3090]')
        self.assertEqual(f['Subsystem'], '1458:403b')
        self.assertEqual(f['Class'], '030000')
        self.assertEqual(f['Revision'], 'a1')
        self.assertEqual(f['Kind'], 'gpu')
        self.assertEqual(f['Managed'], 'yes')
        self.assertEqual(f['Driver'], 'nvidia')
        self.assertEqual(f['Driver override'], '-')
        self.assertEqual(f['State'], 'host')
        self.assertEqual(f['Boot VGA'], 'yes')
        self.assertEqual(f['NUMA node'], '0')
        self.assertEqual(f['IOMMU group'], '12')
        self.assertEqual(f['Group verdict'], 'shared')
        self.assertEqual(f['Group members'].split('\n'), [
            f'{GPU_A} NVIDIA Corporation GA102 [GeForce RTX 3090] (nvidia)',
            f'{AUDIO_A} NVIDIA Corporation GA102 High Definition Audio Controller (snd_hda_intel)',
            f'{NIC_FOREIGN} Intel Corporation I211 Gigabit Network Connection (igb)'])
        self.assertEqual(f['Foreign members'], f'{NIC_FOREIGN} Intel Corporation I211 Gigabit Network Connection (igb)')
        self.assertEqual(f['Companions'],
                         f'{AUDIO_A} NVIDIA Corporation GA102 High Definition Audio Controller (snd_hda_intel)')
        self.assertEqual(f['GPU'], '-')
        self.assertEqual(f['Physical function'], '-')
        self.assertEqual(f['VFIO group'], '-')
        self.assertEqual(f['vGPU framework'], 'none')
        self.assertEqual(f['Holders'].split('\n'), ['1234 Xorg /dev/nvidia0', '1301 gnome-shell /dev/dri/card1'])
        self.assertNotIn('Total VFs', f)
        self.assertNotIn('vGPU types:', out)

    def test_show_forms_agree(self):
        short = self.ctl('show', '01:00.0').stdout
        self.assertEqual(self.ctl('show', GPU_A).stdout, short)
        self.assertEqual(self.ctl('show', dev_path(GPU_A)).stdout, short)
        self.assertEqual(self.ctl('show', '0000:01:00.0', '--json').stdout,
                         self.ctl('show', dev_path(GPU_A), '--json').stdout)

    def test_show_json(self):
        d = self.ctl_json('show', '0000:01:00.0', '--json')
        self.check_json_device(d)
        listed = next(x for x in self.ctl_json('list', '--json')['Devices'] if x['Address'] == GPU_A)
        self.assertEqual({k: v for k, v in d.items() if k not in ('Related', 'MdevDetails')}, listed)
        self.assertEqual(set(d['Related']), {GPU_A, AUDIO_A, NIC_FOREIGN})
        self.assertEqual(d['Related'][NIC_FOREIGN], {
            'VendorName': 'Intel Corporation', 'DeviceName': 'I211 Gigabit Network Connection',
            'Kind': 'other', 'Driver': 'igb', 'State': 'host'})
        self.assertEqual(d['MdevDetails'], {})

    def test_show_sriov_vgpu(self):
        out = self.ctl('show', '41:00.0').stdout
        f = self.fields(out)
        self.assertEqual(f['Total VFs'], '32')
        self.assertEqual(f['Enabled VFs'], '2')
        self.assertEqual(f['Virtual functions'].split('\n'), [
            f'{VF_USED} NVIDIA Corporation AD102GL [L40S] (nvidia)',
            f'{VF_FREE} NVIDIA Corporation AD102GL [L40S] (nvidia)'])
        self.assertEqual(f['vGPU framework'], 'vendor-vfio')
        self.assertEqual(f['Current type'], '-')
        types = out.split('vGPU types:\n')[1]
        names, rows = self.parse_table(types)
        self.assertEqual(names, ['ID', 'NAME', 'FRAMEBUFFER', 'AVAILABLE'])
        self.assertEqual(rows, [{'ID': '1155', 'NAME': 'NVIDIA L40S-24Q', 'FRAMEBUFFER': '24576 MiB',
                                 'AVAILABLE': '1'}])
        d = self.ctl_json('show', '41:00.0', '--json=short')
        self.check_json_device(d)
        self.assertEqual(set(d['Related']), {GPU_B, VF_USED, VF_FREE})

    def test_show_vf(self):
        f = self.fields(self.ctl('show', VF_USED).stdout)
        self.assertEqual(f['Kind'], 'vf')
        self.assertEqual(f['GPU'], f'{GPU_B} NVIDIA Corporation AD102GL [L40S] (nvidia)')
        self.assertEqual(f['Physical function'], f['GPU'])
        self.assertEqual(f['VFIO group'], '/dev/vfio/31')
        self.assertEqual(f['VFIO device'], '/dev/vfio/devices/vfio0')
        self.assertEqual(f['Current type'], '1155 NVIDIA L40S-24Q')
        self.assertEqual(f['Holders'], '4321 qemu-system-x86 /dev/vfio/31')
        self.check_json_device(self.ctl_json('show', VF_USED, '--json'))

    def test_show_mdevs(self):
        out = self.ctl('show', '81:00.0').stdout
        self.assertEqual(self.fields(out)['State message'], 'mdev parent')
        _, rows = self.parse_table(out.split('Mediated devices:\n')[1])
        self.assertEqual(rows, [{'UUID': MDEV, 'TYPE': 'nvidia-222', 'NAME': 'GRID T4-1B',
                                 'VFIO': '/dev/vfio/50', 'HOLDERS': '777 qemu-system-x86 /dev/vfio/50'}])
        _, types = self.parse_table(out.split('vGPU types:\n')[1].split('\n\n')[0])
        self.assertEqual(types[0]['FRAMEBUFFER'], '1024 MiB')
        d = self.ctl_json('show', '81:00.0', '--json')
        self.check_json_device(d)
        m = d['MdevDetails'][MDEV]
        self.assertEqual(m['Parent'], GPU_C)
        self.assertEqual(m['Holders'], [{'Pid': 777, 'Command': 'qemu-system-x86', 'Node': '/dev/vfio/50'}])
        self.assertEqual(set(m), set(self.types['org.gpuvirt.Mdev']))

    def test_show_missing(self):
        p = self.ctl('show', '0b:00.0', code=3)
        self.assertEqual(p.stdout, '')
        self.assertIn("No PCI function '0b:00.0'", p.stderr)
        self.assertIn('gpuvirtctl list --all', p.stderr)
        self.ctl('show', '0000:0b:00.0', '--json', code=3)
        self.ctl('show', '/org/gpuvirt/devices/pci_0000_0b_00_0', code=3)
        p = self.ctl('show', 'not-a-device', code=2)
        self.assertIn('0000:0b:00.0, 0b:00.0 or /org/gpuvirt/devices/', p.stderr)

    def test_error_hints(self):
        """Every error name of the header has an exit code and a hint."""
        expected = {
            'org.gpuvirt.Error.NoSuchDevice': 3, 'org.gpuvirt.Error.NoSuchType': 3,
            'org.gpuvirt.Error.KernelError': 1, 'org.gpuvirt.Error.Stuck': 1, 'org.gpuvirt.Error.Pending': 7,
            'org.gpuvirt.Error.ConfigInvalid': 1,
            'org.freedesktop.DBus.Error.AccessDenied': 4,
            'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired': 4,
            'org.freedesktop.DBus.Error.InvalidArgs': 2,
            'org.freedesktop.DBus.Error.ServiceUnknown': 5,
        }
        with open(os.path.join(DBUS_DIR, 'gpuvirt-names.h'), encoding='utf-8') as f:
            header = f.read()
        names = re.findall(r'#define GPUVIRT_ERROR_\w+ "([^"]+)"', header)
        self.assertGreater(len(names), 10)
        for name in names + [n for n in expected if n not in names]:
            p = self.ctl('show', 'error:' + name, code=expected.get(name, 6))
            self.assertIn('Hint: ', p.stderr, name)
            self.assertEqual(p.stdout, '')
        p = self.ctl('show', 'error:org.freedesktop.DBus.Error.AccessDenied', code=4)
        self.assertIn('org.gpuvirt.rules.example', p.stderr)

    # ---- status ----

    def test_status(self):
        for args in ([], ['status']):
            f = self.fields(self.ctl(*args).stdout)
            self.assertEqual(f['Version'], '0.1.0 (API 1)')
            self.assertEqual(f['IOMMU'], 'intel, interrupt remapping')
            self.assertEqual(f['vfio-pci'], 'loaded')
            self.assertEqual(f['vGPU manager'], 'installed')
            self.assertEqual(f['Devices'], f'{len(self.manager["Devices"])} managed functions')
            self.assertEqual(f['Mdevs'], '1')
            self.assertEqual(f['Config errors'],
                             '/etc/gpuvirt/conf.d/10-lab.conf:3: passthrough/devices: unknown device 0000:0c:00.0')
            self.assertEqual(f['Boot plan'], 'done (1 step)')
        d = self.ctl_json('--json')
        self.assertEqual(set(d), set(self.types['org.gpuvirt.Manager']))
        self.assertEqual(d['Devices'], self.addresses(managed_only=True))
        self.assertEqual(d['Mdevs'], [MDEV])
        self.assertEqual(d['ConfigErrors'], [{'File': '/etc/gpuvirt/conf.d/10-lab.conf', 'Line': 3,
                                              'Key': 'passthrough/devices',
                                              'Message': 'unknown device 0000:0c:00.0'}])
        self.assertEqual(d['BootPlan'], [{'Phase': 'passthrough', 'Device': VF_USED,
                                          'Action': 'bind vfio-pci', 'Status': 'done', 'Message': ''}])
        self.assertEqual(d['ApiVersion'], 1)

    # ---- monitor ----

    def start_monitor(self, *args):
        env = dict(os.environ, LC_ALL='C')
        proc = subprocess.Popen([CTL, 'monitor', *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        self.addCleanup(self.reap, proc)
        # it says so on stderr once its matches are in place
        self.assertIn('Monitoring', self.read_line(proc.stderr))
        return proc

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        proc.stdout.close()
        proc.stderr.close()

    def read_line(self, stream):
        ready, _, _ = select.select([stream], [], [], TIMEOUT)
        self.assertTrue(ready, 'gpuvirtctl monitor printed nothing in time')
        return stream.readline()

    def stop_monitor(self, proc):
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(TIMEOUT), 0)
        err = proc.stderr.read()
        self.assertNotIn('runtime error', err)
        self.assertNotIn('ERROR: AddressSanitizer', err)

    def test_monitor_json(self):
        proc = self.start_monitor('--json')
        before = time.time()
        gpu = self.mock_object(dev_path(GPU_A))
        # a value repeated unchanged (as a Refresh may announce it) is left out
        gpu.UpdateProperties('org.gpuvirt.Device', {'State': dbus.String('host'), 'Driver': dbus.String('vfio-pci')})
        e = json.loads(self.read_line(proc.stdout))
        self.assertEqual(e['Event'], 'changed')
        self.assertEqual(e['Address'], GPU_A)
        self.assertEqual(e['Path'], dev_path(GPU_A))
        self.assertEqual(e['Interface'], 'org.gpuvirt.Device')
        self.assertEqual(e['Changed'], {'Driver': 'vfio-pci'})
        # nothing new at all: no line (the next one read is the next change)
        gpu.UpdateProperties('org.gpuvirt.Device', {'State': dbus.String('host'), 'Driver': dbus.String('vfio-pci')})
        gpu.UpdateProperties('org.gpuvirt.Device', {'State': dbus.String('vfio')})
        e = json.loads(self.read_line(proc.stdout))
        self.assertEqual(e['Changed'], {'State': 'vfio'})
        self.assertEqual(e['Invalidated'], [])
        self.assertAlmostEqual(e['TimestampUSec'] / 1e6, before, delta=5)
        self.assertRegex(e['Timestamp'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$')

        # a new VF appears and goes
        new = '0000:41:00.6'
        props = self.typed_props('org.gpuvirt.Device', device(
            new, 0x10de, 0x26b9, 0x030200, 'NVIDIA Corporation', 'AD102GL [L40S]', 'vf', IommuGroup=33))
        self.mock.AddObject(dev_path(new), 'org.gpuvirt.Device', props, [])
        self.mock.EmitSignal(OM_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                             [dbus.ObjectPath(dev_path(new)), {'org.gpuvirt.Device': props}])
        e = json.loads(self.read_line(proc.stdout))
        self.assertEqual((e['Event'], e['Address'], e['Interfaces']), ('added', new, ['org.gpuvirt.Device']))
        self.assertEqual(e['Properties']['org.gpuvirt.Device']['IommuGroup'], 33)
        self.assertEqual(e['Properties']['org.gpuvirt.Device']['VendorId'], '10de')
        self.mock.EmitSignal(OM_IFACE, 'InterfacesRemoved', 'oas',
                             [dbus.ObjectPath(dev_path(new)), ['org.gpuvirt.Device']])
        self.mock.RemoveObject(dev_path(new))
        e = json.loads(self.read_line(proc.stdout))
        self.assertEqual((e['Event'], e['Address'], e['Interfaces']), ('removed', new, ['org.gpuvirt.Device']))

        # the Manager's own changes carry no address
        self.mock.UpdateProperties('org.gpuvirt.Manager', {'VfioPciLoaded': dbus.Boolean(False)})
        e = json.loads(self.read_line(proc.stdout))
        self.assertEqual((e['Address'], e['Path'], e['Changed']), (None, MANAGER, {'VfioPciLoaded': False}))
        self.stop_monitor(proc)

    def test_monitor_text_and_restart(self):
        proc = self.start_monitor()
        self.mock_object(dev_path(VF_FREE)).UpdateProperties(
            'org.gpuvirt.Vgpu', {'CurrentType': dbus.String('1155'),
                                 'Types': typed('a(ssuua{sv})', [])})
        line = self.read_line(proc.stdout)
        self.assertRegex(line, r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} 0000:41:00\.5 Vgpu changed: ')
        self.assertIn(' CurrentType=1155', line)
        self.assertIn(' Types=-', line)
        # gpuvirtd going away is said, and so is its return
        self.stop_mock()
        self.assertRegex(self.read_line(proc.stdout), r' gpuvirtd stopped$')
        self.setUp()
        self.assertRegex(self.read_line(proc.stdout), r' gpuvirtd started$')
        self.mock_object(dev_path(GPU_A)).UpdateProperties('org.gpuvirt.Device', {'State': dbus.String('releasing')})
        self.assertIn(f' {GPU_A} Device changed: State=releasing', self.read_line(proc.stdout))
        self.stop_monitor(proc)

    # ---- no daemon, bad usage ----

    def test_daemon_absent(self):
        self.stop_mock()
        for args in (['list'], ['show', '01:00.0'], ['status', '--json']):
            p = self.ctl(*args, code=5)
            self.assertIn('gpuvirtd is not running', p.stderr)
            self.assertEqual(p.stdout, '')

    def test_usage(self):
        self.assertIn('list', self.ctl('--help').stdout)
        self.assertIn('Exit status', self.ctl('show', '--help').stdout)
        self.assertRegex(self.ctl('--version').stdout, r'^gpuvirtctl \d+\.\d+')
        self.ctl('frobnicate', code=2)
        self.ctl('show', code=2)
        self.ctl('show', 'a', 'b', code=2)
        self.ctl('show', '01:00.0', '--all', code=2)
        self.ctl('list', '--json=wide', code=2)
        self.ctl('list', '--no-such-option', code=2)
        self.ctl('list', '--no-ask-password')


if __name__ == '__main__':
    if not CTL or not os.access(CTL, os.X_OK) or not DBUS_DIR:
        sys.exit('test-client-mock: set GPUVIRTCTL to the binary and GPUVIRT_DBUS_DIR to dbus/')
    unittest.main(verbosity=2)
