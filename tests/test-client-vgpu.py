#!/usr/bin/python3
"""gpuvirtctl types and vgpu list/create/remove against the mock of the
org.gpuvirt API in test-client-mock.py (python3-dbusmock).

The mock host of test-client-mock.py (a vendor-VFIO L40S with a VF in use
and a free one, a T4 with one mdev) gains an A40-like mdev-vf GPU whose
first VF hosts an mdev and a GPU whose framework is still "pending". Every
object with org.gpuvirt.Vgpu gets CreateVgpu() and RemoveVgpu() as mocks
that answer as the contract says; the tests check what gpuvirtctl prints
and what it sent, through the mock's call log.

Environment: GPUVIRTCTL (the binary), GPUVIRT_DBUS_DIR (dbus/ of the
source tree).
"""
import importlib.util
import os
import sys
import unittest

_spec = importlib.util.spec_from_file_location(
    'client_mock', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test-client-mock.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

dbus = base.dbus
dev_path, mdev_path, device, typed = base.dev_path, base.mdev_path, base.device, base.typed
GPU_A, GPU_B, GPU_C = base.GPU_A, base.GPU_B, base.GPU_C
VF_USED, VF_FREE, MDEV = base.VF_USED, base.VF_FREE, base.MDEV
L40S_24Q, T4_1B = base.L40S_24Q, base.T4_1B

GPU_D = '0000:c1:00.0'   # mdev on each VF (A40-like)
VF_D1 = '0000:c1:00.4'   # hosts MDEV_D
VF_D2 = '0000:c1:00.5'   # free
MDEV_D = '0d1e2f30-4152-4637-8899-aabbccddeeff'
GPU_P = '0000:e1:00.0'   # SR-IOV vGPU GPU whose VFs are not enabled yet
NEW_UUID = '11111111-2222-4333-8444-555555555555'

A40_8Q = ('nvidia-558', 'NVIDIA A40-8Q', 8192, 1,
          {'description': ('s', 'num_heads=4, frl_config=60, framebuffer=8192M, max_instance=6'),
           'device_api': ('s', 'vfio-pci'), 'max_instance': ('u', 6),
           'series': ('s', 'Q'), 'short_name': ('s', 'A40-8Q')})

ERRORS = r'''
errors = {
    'full': ('org.gpuvirt.Error.NoCapacity', 'no VF of the GPU can create the type any more'),
    'nope': ('org.gpuvirt.Error.NoSuchType', 'the GPU has no vGPU type nope'),
    'denied': ('org.freedesktop.DBus.Error.AccessDenied', 'polkit said no'),
    'bad': ('org.freedesktop.DBus.Error.InvalidArgs', 'unknown option'),
}
if args[0] in errors:
    raise dbus.exceptions.DBusException(errors[args[0]][1], name=errors[args[0]][0])
'''

# CreateVgpu on an mdev GPU: the mdev takes the uuid option, or a generated one.
CREATE_MDEV = r'''
uuid = str(args[1].get('uuid', '{new_uuid}'))
hostdev = ("<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>\n"
           "  <source>\n    <address uuid='" + uuid + "'/>\n  </source>\n</hostdev>\n")
ret = (dbus.ObjectPath('/org/gpuvirt/mdevs/' + uuid.replace('-', '_')),
       dbus.Dictionary({{'address': '{address}', 'framework': '{framework}', 'type': '{type}',
                        'type_name': '{type_name}', 'vfio_group_node': '/dev/vfio/51',
                        'vfio_device_node': '', 'mdev_uuid': uuid, 'hostdev_xml': hostdev}},
                       signature='sv'))
'''

# CreateVgpu on a vendor-VFIO GPU: the free VF gets the type.
CREATE_VF = r'''
hostdev = ("<hostdev mode='subsystem' type='pci' managed='no'>\n"
           "  <source>\n    <address domain='0x0000' bus='0x41' slot='0x00' function='0x5'/>\n"
           "  </source>\n</hostdev>")
ret = (dbus.ObjectPath('{vf_path}'),
       dbus.Dictionary({{'address': '{vf}', 'framework': 'vendor-vfio', 'type': '1155',
                        'type_name': 'NVIDIA L40S-24Q', 'vfio_group_node': '/dev/vfio/32',
                        'vfio_device_node': '/dev/vfio/devices/vfio1', 'mdev_uuid': '',
                        'hostdev_xml': hostdev, 'numa_node': dbus.Int32(1)}},
                       signature='sv'))
'''

# RemoveVgpu: refused while the vGPU's VFIO node is open, as the contract says.
REMOVE = r'''
o = objects.get(str(args[0]))
if o is None:
    raise dbus.exceptions.DBusException('no object ' + args[0], name='org.gpuvirt.Error.NoSuchDevice')
props = o.props.get('org.gpuvirt.Mdev') or o.props.get('org.gpuvirt.Device')
if len(props['Holders']) > 0:
    raise dbus.exceptions.DBusException('its VFIO node is open by qemu-system-x86 (pid %d)' % props['Holders'][0][0],
                                        name='org.gpuvirt.Error.InUse')
'''


class VgpuClientTest(base.ClientMockTest):
    def setUp(self):
        super().setUp()
        nvidia = 'NVIDIA Corporation'
        paths = lambda addresses: [dev_path(a) for a in addresses]  # noqa: E731
        extra = {
            dev_path(GPU_D): {
                'org.gpuvirt.Device': device(
                    GPU_D, 0x10de, 0x2235, 0x030200, nvidia, 'GA102GL [A40]', 'gpu', Driver='nvidia',
                    IommuGroup=60, IommuGroupMembers=paths([GPU_D]), GroupVerdict='viable',
                    VgpuFramework='mdev-vf'),
                'org.gpuvirt.Sriov': {'TotalVfs': 32, 'NumVfs': 2, 'VirtualFunctions': paths([VF_D1, VF_D2]),
                                      'Pending': False},
                'org.gpuvirt.Vgpu': {'Framework': 'mdev-vf', 'Types': [A40_8Q], 'CurrentType': '',
                                     'CurrentTypeName': '', 'Mdevs': [mdev_path(MDEV_D)]}},
            dev_path(VF_D1): {
                'org.gpuvirt.Device': device(
                    VF_D1, 0x10de, 0x2235, 0x030200, nvidia, 'GA102GL [A40]', 'vf', Driver='nvidia',
                    IommuGroup=61, IommuGroupMembers=paths([VF_D1]), GroupVerdict='viable',
                    Gpu=dev_path(GPU_D), PhysicalFunction=dev_path(GPU_D), VgpuFramework='mdev-vf'),
                'org.gpuvirt.Vgpu': {'Framework': 'mdev-vf', 'Types': [], 'CurrentType': '',
                                     'CurrentTypeName': '', 'Mdevs': [mdev_path(MDEV_D)]}},
            dev_path(VF_D2): {
                'org.gpuvirt.Device': device(
                    VF_D2, 0x10de, 0x2235, 0x030200, nvidia, 'GA102GL [A40]', 'vf', Driver='nvidia',
                    IommuGroup=62, IommuGroupMembers=paths([VF_D2]), GroupVerdict='viable',
                    Gpu=dev_path(GPU_D), PhysicalFunction=dev_path(GPU_D), VgpuFramework='mdev-vf'),
                'org.gpuvirt.Vgpu': {'Framework': 'mdev-vf', 'Types': [A40_8Q], 'CurrentType': '',
                                     'CurrentTypeName': '', 'Mdevs': []}},
            mdev_path(MDEV_D): {'org.gpuvirt.Mdev': {
                'Uuid': MDEV_D, 'Type': 'nvidia-558', 'TypeName': 'NVIDIA A40-8Q', 'Parent': dev_path(VF_D1),
                'IommuGroup': 63, 'VfioGroupNode': '/dev/vfio/63', 'VfioDeviceNode': '/dev/vfio/devices/vfio3',
                'Holders': []}},
            dev_path(GPU_P): {
                'org.gpuvirt.Device': device(
                    GPU_P, 0x10de, 0x26b9, 0x030200, nvidia, 'AD102GL [L40S]', 'gpu', Driver='nvidia',
                    IommuGroup=70, IommuGroupMembers=paths([GPU_P]), GroupVerdict='viable',
                    VgpuFramework='pending'),
                'org.gpuvirt.Sriov': {'TotalVfs': 32, 'NumVfs': 0, 'VirtualFunctions': [], 'Pending': False},
                'org.gpuvirt.Vgpu': {'Framework': 'pending', 'Types': [], 'CurrentType': '',
                                     'CurrentTypeName': '', 'Mdevs': []}},
        }
        for path, ifaces in extra.items():
            self.add_object(path, ifaces)
        self.objects.update(extra)

        # what CreateVgpu() answers on each object (the type names the errors first)
        create = {
            GPU_B: CREATE_VF.format(vf_path=dev_path(VF_FREE), vf=VF_FREE),
            VF_FREE: CREATE_VF.format(vf_path=dev_path(VF_FREE), vf=VF_FREE),
            GPU_C: CREATE_MDEV.format(new_uuid=NEW_UUID, address=GPU_C, framework='mdev-pf',
                                      type='nvidia-222', type_name='GRID T4-1B'),
            GPU_D: CREATE_MDEV.format(new_uuid=NEW_UUID, address=VF_D2, framework='mdev-vf',
                                      type='nvidia-558', type_name='NVIDIA A40-8Q'),
        }
        for path, ifaces in self.objects.items():
            if 'org.gpuvirt.Vgpu' not in ifaces:
                continue
            address = ifaces['org.gpuvirt.Device']['Address']
            obj = self.mock_object(path)
            obj.AddMethod('org.gpuvirt.Vgpu', 'CreateVgpu', 'sa{sv}', 'oa{sv}',
                          ERRORS + create.get(address, "ret = (dbus.ObjectPath('/'), {})"))
            obj.AddMethod('org.gpuvirt.Vgpu', 'RemoveVgpu', 'oa{sv}', '', REMOVE)

    def calls(self, address, method):
        """[(arg, ...)] of METHOD on ADDRESS's object, as the mock received them."""
        return [tuple(args) for _, args in self.mock_object(dev_path(address)).GetMethodCalls(method)]

    def all_calls(self, method):
        return {a: self.calls(a, method) for a in (GPU_B, VF_USED, VF_FREE, GPU_C, GPU_D, VF_D1, VF_D2, GPU_P)
                if self.calls(a, method)}

    def free(self, path, iface):
        """Nobody holds the vGPU any more (the VM stopped)."""
        self.mock_object(path).UpdateProperties(iface, {'Holders': typed('a(uss)', [])})

    # ---- types ----

    def test_types_vf(self):
        out = self.ctl('types', VF_FREE).stdout
        f = self.fields(out)
        self.assertEqual(f['Device'], f'{VF_FREE} NVIDIA Corporation AD102GL [L40S]')
        self.assertEqual(f['GPU'], GPU_B)
        self.assertEqual(f['Framework'], 'vendor-vfio')
        self.assertEqual(f['Current type'], '-')
        self.assertNotIn('VFs', f)
        names, rows = self.parse_table(out.split('\n\n', 1)[1])
        self.assertEqual(names, ['ID', 'NAME', 'FRAMEBUFFER', 'AVAILABLE', 'MAX', 'SERIES', 'DESCRIPTION'])
        self.assertEqual(rows, [{'ID': '1155', 'NAME': 'NVIDIA L40S-24Q', 'FRAMEBUFFER': '24576 MiB',
                                 'AVAILABLE': '1', 'MAX': '2', 'SERIES': 'Q', 'DESCRIPTION': '-'}])

        # the VF in use: its type, and why it offers none
        out = self.ctl('types', '41:00.4').stdout
        f = self.fields(out)
        self.assertEqual(f['Current type'], '1155 NVIDIA L40S-24Q')
        self.assertIn('No vGPU types: this VF carries a type', out)

        d = self.ctl_json('types', VF_FREE, '--json')
        self.assertEqual(d['Address'], VF_FREE)
        self.assertEqual(d['Gpu'], GPU_B)
        self.assertIsNone(d['FreeVfs'])
        self.assertEqual(set(d) - {'Address', 'Gpu', 'FreeVfs'}, set(self.types['org.gpuvirt.Vgpu']))
        self.assertEqual(d['Framework'], 'vendor-vfio')
        self.assertEqual(d['CurrentType'], '')
        self.assertEqual(d['Types'], [{'Id': '1155', 'Name': 'NVIDIA L40S-24Q', 'FramebufferMiB': 24576,
                                       'Available': 1,
                                       'Details': {'series': 'Q', 'short_name': 'L40S-24Q', 'max_instance': 2}}])
        d = self.ctl_json('types', VF_USED, '--json=short')
        self.assertEqual((d['CurrentType'], d['CurrentTypeName'], d['Types']), ('1155', 'NVIDIA L40S-24Q', []))

    def test_types_pf(self):
        out = self.ctl('types', '41:00.0').stdout
        f = self.fields(out)
        self.assertEqual(f['Device'], f'{GPU_B} NVIDIA Corporation AD102GL [L40S]')
        self.assertNotIn('GPU', f)
        self.assertNotIn('Current type', f)
        # VF_USED carries a type, VF_FREE nothing
        self.assertEqual(f['VFs'], '2 of 32 enabled, 1 free')
        _, rows = self.parse_table(out.split('\n\n', 1)[1])
        self.assertEqual([(r['ID'], r['AVAILABLE']) for r in rows], [('1155', '1')])
        d = self.ctl_json('types', GPU_B, '--json')
        self.assertEqual((d['Address'], d['Gpu'], d['FreeVfs']), (GPU_B, None, 1))

        # mdev on the PF: the driver's description and max_instance
        out = self.ctl('types', dev_path(GPU_C)).stdout
        self.assertNotIn('VFs', self.fields(out))
        _, rows = self.parse_table(out.split('\n\n', 1)[1])
        self.assertEqual(rows, [{'ID': 'nvidia-222', 'NAME': 'GRID T4-1B', 'FRAMEBUFFER': '1024 MiB',
                                 'AVAILABLE': '15', 'MAX': '16', 'SERIES': 'B',
                                 'DESCRIPTION': 'num_heads=4, frl_config=45, framebuffer=1024M, max_instance=16'}])
        d = self.ctl_json('types', GPU_C, '--json')
        self.assertEqual(d['Types'][0]['Details']['device_api'], 'vfio-pci')
        self.assertEqual(d['Mdevs'], [MDEV])

        # mdev on VFs: a VF hosting an mdev is not free
        f = self.fields(self.ctl('types', GPU_D).stdout)
        self.assertEqual(f['VFs'], '2 of 32 enabled, 1 free')
        self.assertEqual(self.ctl_json('types', GPU_D, '--json')['FreeVfs'], 1)

    def test_types_pending_and_refused(self):
        out = self.ctl('types', GPU_P).stdout
        self.assertEqual(self.fields(out)['VFs'], '0 of 32 enabled, 0 free')
        self.assertIn('VFs are not enabled', out)
        self.assertEqual(self.ctl_json('types', GPU_P, '--json')['Types'], [])
        # no org.gpuvirt.Vgpu: refused with the NotSupported hint
        p = self.ctl('types', GPU_A, code=6)
        self.assertEqual(p.stdout, '')
        self.assertIn(f'{GPU_A} offers no vGPU types', p.stderr)
        self.assertIn('Hint: ', p.stderr)
        self.ctl('types', GPU_A, '--json', code=6)
        self.ctl('types', '0b:00.0', code=3)
        self.ctl('types', 'nonsense', code=2)

    # ---- vgpu list ----

    def expected_vgpus(self):
        return [
            {'Path': dev_path(VF_USED), 'Vgpu': VF_USED, 'Gpu': GPU_B, 'Framework': 'vendor-vfio',
             'Address': VF_USED, 'Uuid': '', 'Type': '1155', 'TypeName': 'NVIDIA L40S-24Q',
             'VfioGroupNode': '/dev/vfio/31', 'VfioDeviceNode': '/dev/vfio/devices/vfio0',
             'Holders': [{'Pid': 4321, 'Command': 'qemu-system-x86', 'Node': '/dev/vfio/31'}]},
            {'Path': mdev_path(MDEV), 'Vgpu': MDEV, 'Gpu': GPU_C, 'Framework': 'mdev-pf',
             'Address': GPU_C, 'Uuid': MDEV, 'Type': 'nvidia-222', 'TypeName': 'GRID T4-1B',
             'VfioGroupNode': '/dev/vfio/50', 'VfioDeviceNode': '',
             'Holders': [{'Pid': 777, 'Command': 'qemu-system-x86', 'Node': '/dev/vfio/50'}]},
            {'Path': mdev_path(MDEV_D), 'Vgpu': MDEV_D, 'Gpu': GPU_D, 'Framework': 'mdev-vf',
             'Address': VF_D1, 'Uuid': MDEV_D, 'Type': 'nvidia-558', 'TypeName': 'NVIDIA A40-8Q',
             'VfioGroupNode': '/dev/vfio/63', 'VfioDeviceNode': '/dev/vfio/devices/vfio3', 'Holders': []},
        ]

    def test_vgpu_list(self):
        out = self.ctl('vgpu', 'list').stdout
        names, rows = self.parse_table(out)
        self.assertEqual(names, ['GPU', 'VGPU', 'TYPE', 'NAME', 'VFIO', 'HOLDERS'])
        self.assertEqual(rows, [
            {'GPU': GPU_B, 'VGPU': VF_USED, 'TYPE': '1155', 'NAME': 'NVIDIA L40S-24Q',
             'VFIO': '/dev/vfio/31', 'HOLDERS': 'qemu-system-x86 (4321)'},
            {'GPU': GPU_C, 'VGPU': MDEV, 'TYPE': 'nvidia-222', 'NAME': 'GRID T4-1B',
             'VFIO': '/dev/vfio/50', 'HOLDERS': 'qemu-system-x86 (777)'},
            {'GPU': GPU_D, 'VGPU': MDEV_D, 'TYPE': 'nvidia-558', 'NAME': 'NVIDIA A40-8Q',
             'VFIO': '/dev/vfio/63', 'HOLDERS': '-'},
        ])
        # 'vgpu' alone is 'vgpu list'
        self.assertEqual(self.ctl('vgpu').stdout, out)

        d = self.ctl_json('vgpu', 'list', '--json')
        self.assertEqual(d, {'Vgpus': self.expected_vgpus()})
        self.assertEqual(self.ctl_json('vgpu', '--json=short'), d)

    def test_vgpu_list_empty(self):
        for path in (mdev_path(MDEV), mdev_path(MDEV_D), dev_path(VF_USED)):
            self.mock.RemoveObject(path)
        p = self.ctl('vgpu', 'list')
        self.assertEqual(p.stdout, '')
        self.assertIn('No vGPUs', p.stderr)
        self.assertEqual(self.ctl_json('vgpu', 'list', '--json'), {'Vgpus': []})

    # ---- vgpu create ----

    def test_vgpu_create_mdev(self):
        out = self.ctl('vgpu', 'create', '81:00.0', 'T4-1B', '--uuid', NEW_UUID.upper(), '--timeout=1.5').stdout
        # the UUID goes lowercased, the timeout in milliseconds
        self.assertEqual(self.all_calls('CreateVgpu'),
                         {GPU_C: [('T4-1B', {'uuid': NEW_UUID, 'timeout-ms': 1500})]})
        (_, opts), = self.calls(GPU_C, 'CreateVgpu')
        self.assertIsInstance(opts['uuid'], dbus.String)
        self.assertIsInstance(opts['timeout-ms'], dbus.UInt32)
        f = self.fields(out)
        self.assertEqual(f, {'Object': mdev_path(NEW_UUID), 'Address': GPU_C, 'Framework': 'mdev-pf',
                             'Type': 'nvidia-222 GRID T4-1B', 'mdev UUID': NEW_UUID,
                             'VFIO group': '/dev/vfio/51', 'VFIO device': '-'})
        block = out.split('\n\n', 1)[1]
        self.assertEqual(block, "libvirt <hostdev> element (managed='no'):\n"
                         "<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>\n"
                         f"  <source>\n    <address uuid='{NEW_UUID}'/>\n  </source>\n</hostdev>\n")

        # without options: an empty a{sv}, gpuvirtd generates the UUID
        d = self.ctl_json('vgpu', 'create', GPU_D, 'A40-8Q', '--json')
        self.assertEqual(self.calls(GPU_D, 'CreateVgpu'), [('A40-8Q', {})])
        self.assertEqual(d['Path'], mdev_path(NEW_UUID))
        self.assertEqual(d['Object'], NEW_UUID)
        self.assertEqual(d['Info']['address'], VF_D2)
        self.assertEqual(d['Info']['framework'], 'mdev-vf')
        self.assertEqual(d['Info']['mdev_uuid'], NEW_UUID)

    def test_vgpu_create_vendor_vfio(self):
        d = self.ctl_json('vgpu', 'create', GPU_B, 'NVIDIA L40S-24Q', '--num-vfs', '4', '--json')
        self.assertEqual(self.all_calls('CreateVgpu'), {GPU_B: [('NVIDIA L40S-24Q', {'num-vfs': 4})]})
        (_, opts), = self.calls(GPU_B, 'CreateVgpu')
        self.assertIsInstance(opts['num-vfs'], dbus.UInt32)
        self.assertEqual(list(d), ['Path', 'Object', 'Info'])
        self.assertEqual(d['Path'], dev_path(VF_FREE))
        self.assertEqual(d['Object'], VF_FREE)
        self.assertEqual(d['Info'], {
            'address': VF_FREE, 'framework': 'vendor-vfio', 'type': '1155', 'type_name': 'NVIDIA L40S-24Q',
            'vfio_group_node': '/dev/vfio/32', 'vfio_device_node': '/dev/vfio/devices/vfio1', 'mdev_uuid': '',
            'hostdev_xml': "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source>\n"
                           "    <address domain='0x0000' bus='0x41' slot='0x00' function='0x5'/>\n"
                           "  </source>\n</hostdev>",
            'numa_node': 1})
        # text: info keys a newer daemon adds are shown under their names
        out = self.ctl('vgpu', 'create', '41:00.5', 'L40S-24Q').stdout
        self.assertEqual(self.calls(VF_FREE, 'CreateVgpu'), [('L40S-24Q', {})])
        f = self.fields(out)
        self.assertEqual(f['Object'], dev_path(VF_FREE))
        self.assertEqual(f['Address'], VF_FREE)
        self.assertEqual(f['mdev UUID'], '-')
        self.assertEqual(f['VFIO device'], '/dev/vfio/devices/vfio1')
        self.assertEqual(f['numa_node'], '1')
        self.assertTrue(out.endswith('</hostdev>\n'))

    def test_vgpu_create_errors(self):
        p = self.ctl('vgpu', 'create', GPU_B, 'full', code=6)
        self.assertIn(f'Could not create a vGPU of type full on {GPU_B}: '
                      'no VF of the GPU can create the type any more', p.stderr)
        self.assertIn('Hint: No instance of this vGPU type is free', p.stderr)
        self.assertEqual(p.stdout, '')
        p = self.ctl('vgpu', 'create', GPU_B, 'nope', '--json', code=3)
        self.assertIn('the GPU has no vGPU type nope', p.stderr)
        self.assertIn('gpuvirtctl types DEVICE', p.stderr)
        self.assertEqual(p.stdout, '')
        self.ctl('vgpu', 'create', GPU_B, 'denied', code=4)
        self.ctl('vgpu', 'create', GPU_B, 'bad', code=2)
        # a GPU without vGPU: the call is unknown on its object
        p = self.ctl('vgpu', 'create', GPU_A, 'L40S-24Q', code=6)
        self.assertIn(f'{GPU_A} cannot host vGPUs', p.stderr)
        self.ctl('vgpu', 'create', '0b:00.0', 'L40S-24Q', code=3)

    def test_vgpu_create_usage(self):
        """Bad arguments are refused before anything is asked of gpuvirtd."""
        for args in (['--uuid', 'not-a-uuid'], ['--uuid', NEW_UUID[:-1]], ['--uuid', NEW_UUID + '0'],
                     ['--num-vfs', '0'], ['--num-vfs', '-1'], ['--num-vfs', '65536'], ['--num-vfs', 'x'],
                     ['--timeout', '0'], ['--disable-vfs'], ['--force']):
            p = self.ctl('vgpu', 'create', GPU_C, 'T4-1B', *args, code=2)
            self.assertIn("See 'gpuvirtctl --help'", p.stderr, args)
        self.assertIn("Invalid UUID 'not-a-uuid'",
                      self.ctl('vgpu', 'create', GPU_C, 'T4-1B', '--uuid=not-a-uuid', code=2).stderr)
        self.ctl('vgpu', 'create', GPU_C, code=2)
        self.ctl('vgpu', 'create', GPU_C, 'T4-1B', 'extra', code=2)
        self.ctl('vgpu', 'create', GPU_C, '', code=2)
        self.assertEqual(self.mock.GetMethodCalls('GetDevice'), [])
        self.assertEqual(self.all_calls('CreateVgpu'), {})

    # ---- vgpu remove ----

    def test_vgpu_remove_mdev(self):
        # held by a VM: gpuvirtd refuses, the client says so
        p = self.ctl('vgpu', 'remove', MDEV, code=6)
        self.assertIn(f'Could not remove vGPU {MDEV} of {GPU_C}: its VFIO node is open', p.stderr)
        self.assertIn('Hint: Something still uses it; the message names what (a virtual machine through its VFIO node', p.stderr)
        self.assertEqual(self.all_calls('RemoveVgpu'), {GPU_C: [(mdev_path(MDEV), {})]})
        self.free(mdev_path(MDEV), 'org.gpuvirt.Mdev')
        self.mock_object(dev_path(GPU_C)).ClearCalls()

        # by UUID in any case; the call goes to the mdev's parent, the GPU
        out = self.ctl('vgpu', 'remove', MDEV.upper()).stdout
        self.assertEqual(out, f'Removed mdev {MDEV} (nvidia-222 GRID T4-1B) of {GPU_C}.\n')
        self.assertEqual(self.all_calls('RemoveVgpu'), {GPU_C: [(mdev_path(MDEV), {})]})

        # by object path, on an mdev-vf GPU: the parent is a VF, the call goes to its GPU
        d = self.ctl_json('vgpu', 'remove', mdev_path(MDEV_D), '--disable-vfs', '--timeout', '2', '--json')
        self.assertEqual(self.calls(GPU_D, 'RemoveVgpu'),
                         [(mdev_path(MDEV_D), {'disable-vfs': True, 'timeout-ms': 2000})])
        (_, opts), = self.calls(GPU_D, 'RemoveVgpu')
        self.assertIsInstance(opts['disable-vfs'], dbus.Boolean)
        self.assertEqual(d, {'Removed': self.expected_vgpus()[2]})
        self.assertEqual(self.calls(VF_D1, 'RemoveVgpu'), [])

    def test_vgpu_remove_vf(self):
        # a vendor-VFIO VF carrying a type, by its short address
        self.free(dev_path(VF_USED), 'org.gpuvirt.Device')
        out = self.ctl('vgpu', 'remove', '41:00.4', '--disable-vfs').stdout
        self.assertEqual(out, f'Removed type 1155 NVIDIA L40S-24Q from VF {VF_USED}.\n')
        self.assertEqual(self.all_calls('RemoveVgpu'), {GPU_B: [(dev_path(VF_USED), {'disable-vfs': True})]})
        # a VF that hosts one mdev stands for it
        self.ctl('vgpu', 'remove', dev_path(VF_D1))
        self.assertEqual(self.calls(GPU_D, 'RemoveVgpu'), [(mdev_path(MDEV_D), {})])

    def test_vgpu_remove_not_a_vgpu(self):
        cases = (
            ([VF_FREE], 3, 'carries no vGPU type and hosts no mdev'),
            ([GPU_C], 3, f'name one of its mdevs: {MDEV}'),
            (['00000000-0000-4000-8000-000000000000'], 3, "No mdev '00000000-0000-4000-8000-000000000000'"),
            (['/org/gpuvirt/mdevs/nothing'], 3, 'No mdev'),
            (['0b:00.0'], 3, 'No PCI function'),
            (['garbage'], 2, "'garbage' is not an mdev UUID"),
            ([MDEV, '--uuid', MDEV], 2, 'does not apply'),
            ([MDEV, '--num-vfs', '2'], 2, 'does not apply'),
            ([], 2, "'vgpu remove' needs VGPU"),
        )
        for args, code, message in cases:
            p = self.ctl('vgpu', 'remove', *args, code=code)
            self.assertIn(message, p.stderr, args)
            self.assertEqual(p.stdout, '')
        self.assertEqual(self.all_calls('RemoveVgpu'), {})

    def test_daemon_absent(self):
        self.stop_mock()
        for args in (['types', GPU_B], ['vgpu'], ['vgpu', 'list', '--json'], ['vgpu', 'create', GPU_B, 'L40S-24Q'],
                     ['vgpu', 'remove', MDEV], ['vgpu', 'remove', VF_USED]):
            p = self.ctl(*args, code=5)
            self.assertIn('gpuvirtd is not running', p.stderr)
            self.assertEqual(p.stdout, '')

    # ---- help ----

    def test_help(self):
        overall = self.ctl('--help').stdout
        for line in ('types DEVICE', 'vgpu list', 'vgpu create DEVICE TYPE', 'vgpu remove VGPU'):
            self.assertIn('  ' + line, overall)
        for option in ('--uuid=UUID', '--num-vfs=N', '--disable-vfs'):
            self.assertIn(option, overall)
        cases = (
            (['types'], 'types DEVICE', [], ['--uuid', '--timeout']),
            (['vgpu', 'list'], 'vgpu list', [], ['--uuid', '--disable-vfs']),
            (['vgpu', 'create'], 'vgpu create DEVICE TYPE', ['--uuid=UUID', '--num-vfs=N', '--timeout=SECONDS'],
             ['--disable-vfs']),
            (['vgpu', 'remove'], 'vgpu remove VGPU', ['--disable-vfs', '--timeout=SECONDS'], ['--uuid', '--num-vfs']),
        )
        for words, usage, present, absent in cases:
            out = self.ctl(*words, '--help').stdout
            self.assertIn(f'Usage: gpuvirtctl [OPTIONS...] {usage}\n', out)
            self.assertIn('--json[=MODE]', out)
            self.assertIn('Exit status', out)
            for option in present:
                self.assertIn(option, out, words)
            for option in absent:
                self.assertNotIn(option, out, words)
        out = self.ctl('vgpu', '--help').stdout
        self.assertIn('Usage: gpuvirtctl [OPTIONS...] vgpu COMMAND', out)
        for line in ('vgpu list', 'vgpu create DEVICE TYPE', 'vgpu remove VGPU'):
            self.assertIn('  ' + line, out)
        self.assertNotIn('  types', out)
        self.assertIn("Unknown command 'vgpu frobnicate'", self.ctl('vgpu', 'frobnicate', code=2).stderr)
        self.ctl('vgpu', 'list', 'extra', code=2)
        self.ctl('types', code=2)
        self.ctl('types', GPU_B, '--all', code=2)


def load_tests(loader, tests, pattern):
    """Only this file's tests: the inherited ones run in client-mock."""
    return unittest.TestSuite(VgpuClientTest(name) for name in sorted(vars(VgpuClientTest))
                              if name.startswith('test_'))


if __name__ == '__main__':
    if not base.CTL or not os.access(base.CTL, os.X_OK) or not base.DBUS_DIR:
        sys.exit('test-client-vgpu: set GPUVIRTCTL to the binary and GPUVIRT_DBUS_DIR to dbus/')
    unittest.main(verbosity=2)
