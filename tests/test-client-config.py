#!/usr/bin/python3
"""gpuvirtctl config show/check/save/reload, apply, status's boot plan and
--persist against the mock of the org.gpuvirt API in test-client-mock.py
(python3-dbusmock).

The mock Manager gains GetConfig(), CheckConfig(), SaveConfig(),
ReloadConfig() and ApplyConfig() answering as the contract says, and the
mutating methods the verbs call with --persist; the tests check what
gpuvirtctl prints, its exit codes and JSON, and what it sent (the mock's
call log), including the calls that must never be made.

Environment: GPUVIRTCTL (the binary), GPUVIRT_DBUS_DIR (dbus/ of the
source tree).
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

_spec = importlib.util.spec_from_file_location(
    'client_mock', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test-client-mock.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

dbus = base.dbus
dev_path, mdev_path, typed = base.dev_path, base.mdev_path, base.typed
GPU_A, GPU_B, GPU_C, VF_USED, VF_FREE, MDEV = (base.GPU_A, base.GPU_B, base.GPU_C, base.VF_USED, base.VF_FREE,
                                               base.MDEV)

MAIN = '/etc/gpuvirt/gpuvirt.conf'
DROPIN = '/etc/gpuvirt/conf.d/10-lab.conf'
TEXT = ('# the lab host\n'
        '[Device 0000:01:00.0]\n'
        'Id=10de:2204\n'
        'Passthrough=true\n')

# CheckConfig: a text with "bad" in it has problems, others none.
CHECK = r'''
text = args[0]
ret = []
if 'NumVF=' in text:
    ret.append((dbus.UInt32(3), 'Device 0000:41:00.0/NumVF', 'unknown key “NumVF” (did you mean “NumVfs”?)'))
if 'gone' in text:
    ret.append((dbus.UInt32(0), '', '0000:0c:00.0 is not on this host'))
'''

SAVE = r'''
if 'NumVF=' in args[0]:
    raise dbus.exceptions.DBusException('new.conf:3: Device 0000:41:00.0/NumVF: unknown key; nothing was written',
                                        name='org.gpuvirt.Error.ConfigInvalid')
if 'denied' in args[0]:
    raise dbus.exceptions.DBusException('Not authorized by polkit: org.gpuvirt.modify-config',
                                        name='org.freedesktop.DBus.Error.AccessDenied')
'''

PLAN = [('passthrough', GPU_A, 'bind vfio-pci', 'done', ''),
        ('sriov', GPU_B, 'enable 4 VFs', 'skipped', '4 VFs are enabled already'),
        ('vgpu', VF_FREE, 'set type 1155 (NVIDIA L40S-24Q)', 'failed',
         '0000:41:00.5 is 10de:26b9, configured 10de:26b5: device moved or replaced')]

APPLY = r'''
plan = {plan!r}
if args[0].get('dry-run'):
    plan = [(p, d, a, 'pending' if s == 'done' else s, m) for p, d, a, s, m in plan]
ret = dbus.Array([dbus.Struct(row, signature='sssss') for row in plan], signature='(sssss)')
'''

ROWS = r'''
ret = dbus.Array([dbus.Struct(('{address}', 'vfio', 'on vfio-pci'), signature='sss')], signature='(sss)')
'''


class ConfigClientTest(base.ClientMockTest):
    def setUp(self):
        super().setUp()
        self.set_manager(ConfigFiles=[MAIN, DROPIN], ConfigErrors=[], BootPlanState='done', BootPlan=PLAN[:2])
        m = self.mock
        m.AddMethod('org.gpuvirt.Manager', 'GetConfig', '', 's', f'ret = {TEXT!r}')
        m.AddMethod('org.gpuvirt.Manager', 'CheckConfig', 's', 'a(uss)', CHECK)
        m.AddMethod('org.gpuvirt.Manager', 'SaveConfig', 'sa{sv}', '', SAVE)
        m.AddMethod('org.gpuvirt.Manager', 'ReloadConfig', '', '', '')
        m.AddMethod('org.gpuvirt.Manager', 'ApplyConfig', 'a{sv}', 'a(sssss)', APPLY.format(plan=PLAN))
        m.AddMethod('org.gpuvirt.Manager', 'BindVfio', 'asa{sv}', 'a(sss)', ROWS.format(address=GPU_A))
        m.AddMethod('org.gpuvirt.Manager', 'GiveBack', 'asa{sv}', 'a(sss)', ROWS.format(address=GPU_A))
        gpu = self.mock_object(dev_path(GPU_A))
        for method in ('BindVfio', 'GiveBack', 'Unbind'):
            gpu.AddMethod('org.gpuvirt.Device', method, 'a{sv}', 'a(sss)', ROWS.format(address=GPU_A))
        self.mock_object(dev_path(GPU_B)).AddMethod('org.gpuvirt.Sriov', 'SetNumVfs', 'ua{sv}', 'ao',
                                                    'ret = dbus.Array([], signature="o")')
        self.mock_object(dev_path(GPU_C)).AddMethod(
            'org.gpuvirt.Vgpu', 'CreateVgpu', 'sa{sv}', 'oa{sv}',
            "ret = (dbus.ObjectPath('/'), dbus.Dictionary({'address': '%s'}, signature='sv'))" % GPU_C)
        self.mock_object(dev_path(GPU_C)).AddMethod('org.gpuvirt.Vgpu', 'RemoveVgpu', 'oa{sv}', '', '')

    def set_manager(self, **props):
        want = self.types['org.gpuvirt.Manager']
        self.mock.UpdateProperties('org.gpuvirt.Manager', {k: typed(want[k], v) for k, v in props.items()})

    def manager_calls(self, method):
        return [tuple(args) for _, args in self.mock.GetMethodCalls(method)]

    def calls(self, address, method):
        return [tuple(args) for _, args in self.mock_object(dev_path(address)).GetMethodCalls(method)]

    def ctl_in(self, stdin, *args, code=0):
        env = dict(os.environ, LC_ALL='C', COLUMNS='60')
        p = subprocess.run([base.CTL, *args], input=stdin, capture_output=True, text=True, env=env,
                           timeout=base.TIMEOUT)
        self.assertNotIn('runtime error', p.stderr)
        self.assertNotIn('ERROR: AddressSanitizer', p.stderr)
        self.assertEqual(p.returncode, code, f'gpuvirtctl {" ".join(args)}: {p.stderr}')
        return p

    def temp_file(self, data, mode='w'):
        f = tempfile.NamedTemporaryFile(mode, suffix='.conf', delete=False)
        self.addCleanup(os.unlink, f.name)
        f.write(data)
        f.close()
        return f.name

    # ---- config show ----

    def test_config_show(self):
        out = self.ctl('config', 'show').stdout
        f = self.fields(out)
        self.assertEqual(f['Files'], f'{MAIN}\n{DROPIN}')
        self.assertEqual(f['Problems'], 'none')
        # the main file whole, after a blank line
        self.assertEqual(out.split('\n\n', 1)[1], TEXT)
        # 'config' alone is 'config show'
        self.assertEqual(self.ctl('config').stdout, out)

        d = self.ctl_json('config', 'show', '--json')
        self.assertEqual(d, {'Text': TEXT, 'ConfigFiles': [MAIN, DROPIN], 'ConfigErrors': []})
        self.assertEqual(self.ctl_json('config', '--json=short'), d)

    def test_config_show_problems(self):
        self.set_manager(ConfigErrors=[(DROPIN, 7, 'Device 0000:41:00.0/NumVF', 'unknown key “NumVF”'),
                                       (MAIN, 0, '', 'not UTF-8')])
        self.mock.AddMethod('org.gpuvirt.Manager', 'GetConfig', '', 's', "ret = ''")
        p = self.ctl('config', 'show')
        self.assertEqual(self.fields(p.stdout)['Problems'],
                         f'{DROPIN}:7: Device 0000:41:00.0/NumVF: unknown key “NumVF”\n{MAIN}: not UTF-8')
        # no text: no blank line and nothing after the fields
        self.assertNotIn('\n\n', p.stdout)
        self.assertIn('empty or does not exist', p.stderr)
        self.assertIn('gpuvirtctl config check', p.stderr)
        d = self.ctl_json('config', 'show', '--json')
        self.assertEqual(d['Text'], '')
        self.assertEqual(d['ConfigErrors'], [
            {'File': DROPIN, 'Line': 7, 'Key': 'Device 0000:41:00.0/NumVF', 'Message': 'unknown key “NumVF”'},
            {'File': MAIN, 'Line': 0, 'Key': '', 'Message': 'not UTF-8'}])

    # ---- config check ----

    def test_config_check_current(self):
        p = self.ctl('config', 'check')
        self.assertEqual(p.stdout, f'{MAIN}: no problems found.\n')
        # the main file's text as GetConfig gave it
        self.assertEqual(self.manager_calls('CheckConfig'), [(TEXT,)])
        self.assertEqual(self.ctl_json('config', 'check', '--json'), {'File': MAIN, 'Problems': []})

    def test_config_check_no_main_file(self):
        # no text: the text names it in words (translated), JSON says null
        self.mock.AddMethod('org.gpuvirt.Manager', 'GetConfig', '', 's', "ret = ''")
        self.assertEqual(self.ctl('config', 'check').stdout, 'the main file: no problems found.\n')
        self.assertEqual(self.ctl_json('config', 'check', '--json'), {'File': None, 'Problems': []})

    def test_config_check_file(self):
        bad = self.temp_file(TEXT + '[Device 0000:41:00.0]\nId=10de:26b9\nNumVF=4\n# gone\n')
        p = self.ctl('config', 'check', bad, code=1)
        self.assertEqual(p.stdout, f'{bad}:3: Device 0000:41:00.0/NumVF: unknown key “NumVF” (did you mean “NumVfs”?)\n'
                                   f'{bad}: 0000:0c:00.0 is not on this host\n')
        self.assertEqual(self.manager_calls('CheckConfig')[-1], (TEXT + '[Device 0000:41:00.0]\nId=10de:26b9\nNumVF=4\n'
                                                                 '# gone\n',))
        self.assertEqual(self.manager_calls('GetConfig'), [])
        p = self.ctl('config', 'check', bad, '--json', code=1)
        self.assertEqual(json.loads(p.stdout), {'File': bad, 'Problems': [
            {'Line': 3, 'Key': 'Device 0000:41:00.0/NumVF', 'Message': 'unknown key “NumVF” (did you mean “NumVfs”?)'},
            {'Line': 0, 'Key': '', 'Message': '0000:0c:00.0 is not on this host'}]})

        # stdin
        p = self.ctl_in('[Device 0000:41:00.0]\nNumVF=1\n', 'config', 'check', '-', code=1)
        self.assertTrue(p.stdout.startswith('stdin:3: '))
        p = self.ctl_in(TEXT, 'config', 'check', '-')
        self.assertEqual(p.stdout, 'stdin: no problems found.\n')
        self.assertEqual(self.manager_calls('CheckConfig')[-1], (TEXT,))

    def test_config_check_unreadable(self):
        n = len(self.manager_calls('CheckConfig'))
        p = self.ctl('config', 'check', '/nonexistent/gpuvirt.conf', code=1)
        self.assertIn('Could not read /nonexistent/gpuvirt.conf', p.stderr)
        binary = self.temp_file(b'[Manage]\nClasses=\xff\xfe\n', mode='wb')
        p = self.ctl('config', 'check', binary, code=2)
        self.assertIn('not UTF-8 text', p.stderr)
        big = self.temp_file('#' * (1024 * 1024) + '\n')
        self.assertIn('larger than 1 MiB', self.ctl('config', 'check', big, code=2).stderr)
        self.assertEqual(len(self.manager_calls('CheckConfig')), n)
        self.ctl('config', 'check', 'a', 'b', code=2)

    # ---- config save ----

    def test_config_save(self):
        new = self.temp_file(TEXT + '\n[Device 0000:41:00.0]\nId=10de:26b9\nNumVfs=4\n')
        p = self.ctl('config', 'save', new)
        self.assertEqual(p.stdout, f'Saved {new} as {MAIN}.\n')
        self.assertEqual(self.manager_calls('SaveConfig'),
                         [(TEXT + '\n[Device 0000:41:00.0]\nId=10de:26b9\nNumVfs=4\n', {})])
        self.assertEqual(self.manager_calls('ApplyConfig'), [])

        # --apply: the option, then the plan as it ran (BootPlan)
        self.set_manager(BootPlan=PLAN, BootPlanState='failed')
        p = self.ctl_in(TEXT, 'config', 'save', '-', '--apply', code=1)
        self.assertEqual(self.manager_calls('SaveConfig')[-1], (TEXT, {'apply': True}))
        (_, opts), = [c for c in self.manager_calls('SaveConfig') if c[1]]
        self.assertIsInstance(opts['apply'], dbus.Boolean)
        first, table = p.stdout.split('\n\n', 1)
        self.assertEqual(first, f'Saved stdin as {MAIN}.')
        names, rows = self.parse_table(table)
        self.assertEqual(names, ['PHASE', 'DEVICE', 'ACTION', 'STATUS', 'MESSAGE'])
        self.assertEqual([(r['PHASE'], r['DEVICE'], r['STATUS']) for r in rows],
                         [(ph, d, s) for ph, d, _, s, _ in PLAN])

    def test_config_save_refused(self):
        bad = self.temp_file('[Device 0000:41:00.0]\nNumVF=4\n')
        p = self.ctl('config', 'save', bad, code=1)
        self.assertIn(f'Could not save {bad} as gpuvirtd\'s configuration: new.conf:3:', p.stderr)
        self.assertIn("Hint: 'gpuvirtctl config check'", p.stderr)
        self.assertEqual(p.stdout, '')
        self.ctl_in('denied', 'config', 'save', '-', code=4)
        self.ctl('config', 'save', code=2)
        self.ctl('config', 'save', bad, '--dry-run', code=2)
        self.ctl('config', 'save', bad, '--json', code=2)

    # ---- config reload ----

    def test_config_reload(self):
        p = self.ctl('config', 'reload')
        self.assertIn('read its configuration again', p.stdout)
        self.assertEqual(self.manager_calls('ReloadConfig'), [()])

        self.mock.AddMethod('org.gpuvirt.Manager', 'ReloadConfig', '', '',
                            "raise dbus.exceptions.DBusException('the files have errors (see ConfigErrors)', "
                            "name='org.gpuvirt.Error.ConfigInvalid')")
        self.set_manager(ConfigErrors=[(DROPIN, 7, 'Device 0000:41:00.0/NumVF', 'unknown key “NumVF”')])
        p = self.ctl('config', 'reload', code=1)
        self.assertIn('Could not reload the configuration: the files have errors', p.stderr)
        self.assertIn(f'{DROPIN}:7: Device 0000:41:00.0/NumVF: unknown key “NumVF”', p.stderr)
        self.assertIn('gpuvirtctl config check', p.stderr)
        self.ctl('config', 'reload', '--json', code=2)

    # ---- apply ----

    def test_apply(self):
        p = self.ctl('apply', code=1)
        names, rows = self.parse_table(p.stdout)
        self.assertEqual(names, ['PHASE', 'DEVICE', 'ACTION', 'STATUS', 'MESSAGE'])
        self.assertEqual(rows[0], {'PHASE': 'passthrough', 'DEVICE': GPU_A, 'ACTION': 'bind vfio-pci',
                                   'STATUS': 'done', 'MESSAGE': '-'})
        self.assertEqual(rows[2]['STATUS'], 'failed')
        # a pipe gets every cell whole
        self.assertIn('configured 10de:26b5: device moved or replaced', p.stdout)
        self.assertEqual(self.manager_calls('ApplyConfig'), [({},)])

        d = json.loads(self.ctl('apply', '--dry-run', '--timeout=2', '--json', code=1).stdout)
        self.assertEqual(self.manager_calls('ApplyConfig')[-1], ({'dry-run': True, 'timeout-ms': 2000},))
        self.assertEqual(list(d), ['DryRun', 'Plan'])
        self.assertTrue(d['DryRun'])
        self.assertEqual(d['Plan'][0], {'Phase': 'passthrough', 'Device': GPU_A, 'Action': 'bind vfio-pci',
                                        'Status': 'pending', 'Message': ''})
        self.assertEqual([r['Status'] for r in d['Plan']], ['pending', 'skipped', 'failed'])

        # every step done or skipped: 0
        self.mock.AddMethod('org.gpuvirt.Manager', 'ApplyConfig', 'a{sv}', 'a(sssss)', APPLY.format(plan=PLAN[:2]))
        self.assertEqual(self.ctl_json('apply', '--json=short'), {'DryRun': False, 'Plan': [
            {'Phase': ph, 'Device': dv, 'Action': a, 'Status': s, 'Message': m} for ph, dv, a, s, m in PLAN[:2]]})
        # nothing configured
        self.mock.AddMethod('org.gpuvirt.Manager', 'ApplyConfig', 'a{sv}', 'a(sssss)', APPLY.format(plan=[]))
        p = self.ctl('apply')
        self.assertEqual(p.stdout, '')
        self.assertIn('Nothing to do', p.stderr)
        self.assertEqual(self.ctl_json('apply', '--json'), {'DryRun': False, 'Plan': []})

    def test_apply_errors(self):
        for name, code in (('org.gpuvirt.Error.Busy', 6), ('org.gpuvirt.Error.ConfigInvalid', 1),
                           ('org.freedesktop.DBus.Error.AccessDenied', 4)):
            self.mock.AddMethod('org.gpuvirt.Manager', 'ApplyConfig', 'a{sv}', 'a(sssss)',
                                f"raise dbus.exceptions.DBusException('mock', name='{name}')")
            p = self.ctl('apply', code=code)
            self.assertIn('Could not apply the configuration: mock', p.stderr)
            self.assertIn('Hint: ', p.stderr)
            self.assertEqual(p.stdout, '')
        self.ctl('apply', 'extra', code=2)
        self.ctl('apply', '--persist', code=2)
        self.ctl('apply', '--apply', code=2)

    # ---- status ----

    def test_status_plan(self):
        out = self.ctl('status').stdout
        self.assertEqual(self.fields(out)['Boot plan'], 'done (2 steps)')
        names, rows = self.parse_table(out.split('\n\n', 1)[1])
        self.assertEqual(names, ['PHASE', 'DEVICE', 'ACTION', 'STATUS', 'MESSAGE'])
        self.assertEqual([(r['PHASE'], r['DEVICE'], r['ACTION'], r['STATUS']) for r in rows],
                         [(ph, d, a, s) for ph, d, a, s, _ in PLAN[:2]])
        d = self.ctl_json('status', '--json')
        self.assertEqual(d['BootPlanState'], 'done')
        self.assertEqual(d['BootPlan'], [{'Phase': ph, 'Device': dv, 'Action': a, 'Status': s, 'Message': m}
                                         for ph, dv, a, s, m in PLAN[:2]])

        # nothing configured: the state, no table
        self.set_manager(BootPlan=[], BootPlanState='none')
        out = self.ctl('status').stdout
        self.assertEqual(self.fields(out)['Boot plan'], 'none (0 steps)')
        self.assertNotIn('PHASE', out)

    # ---- --persist ----

    def test_persist_options(self):
        self.ctl('bind', GPU_A, '--persist', '--no-ask-password')
        self.assertEqual(self.calls(GPU_A, 'BindVfio'), [({'persist': True},)])
        (opts,), = self.calls(GPU_A, 'BindVfio')
        self.assertIsInstance(opts['persist'], dbus.Boolean)
        self.ctl('return', GPU_A, '--persist')
        self.assertEqual(self.calls(GPU_A, 'GiveBack'), [({'persist': True},)])
        # the bulk forms carry it too
        self.ctl('bind', GPU_A, '--keep-going', '--persist')
        self.assertEqual(self.manager_calls('BindVfio'), [([GPU_A], {'keep-going': True, 'persist': True})])
        self.ctl('give-back', GPU_A, '--keep-going', '--persist')
        self.assertEqual(self.manager_calls('GiveBack'), [([GPU_A], {'keep-going': True, 'persist': True})])

        self.ctl('sriov', GPU_B, '4', '--persist', '--timeout', '3')
        self.assertEqual(self.calls(GPU_B, 'SetNumVfs'), [(4, {'timeout-ms': 3000, 'persist': True})])
        self.ctl('sriov', GPU_B, 'off', '--persist')
        self.assertEqual(self.calls(GPU_B, 'SetNumVfs')[-1], (0, {'persist': True}))

        self.ctl('vgpu', 'create', GPU_C, 'T4-1B', '--persist')
        self.assertEqual(self.calls(GPU_C, 'CreateVgpu'), [('T4-1B', {'persist': True})])
        self.mock_object(mdev_path(MDEV)).UpdateProperties('org.gpuvirt.Mdev', {'Holders': typed('a(uss)', [])})
        self.ctl('vgpu', 'remove', MDEV, '--persist')
        self.assertEqual(self.calls(GPU_C, 'RemoveVgpu'), [(mdev_path(MDEV), {'persist': True})])

        # without --persist, no persist key at all
        self.ctl('bind', GPU_A)
        self.assertEqual(self.calls(GPU_A, 'BindVfio')[-1], ({},))

    def test_persist_usage(self):
        """--persist where it records nothing is refused before any call."""
        for args in (['unbind', GPU_A, '--yes', '--persist'], ['sriov', GPU_B, '--persist'],
                     ['show', GPU_A, '--persist'], ['config', 'show', '--persist'], ['status', '--persist'],
                     ['types', GPU_B, '--persist']):
            p = self.ctl(*args, code=2)
            self.assertIn("See 'gpuvirtctl --help'", p.stderr, args)
        self.assertIn("give N (or 'off')", self.ctl('sriov', GPU_B, '--persist', code=2).stderr)
        self.assertEqual(self.calls(GPU_A, 'Unbind'), [])
        self.assertEqual(self.calls(GPU_B, 'SetNumVfs'), [])

    def test_persist_config_invalid(self):
        """A persist that could not be written: exit 1, gpuvirtd's message and the config check hint."""
        self.mock_object(dev_path(GPU_B)).AddMethod(
            'org.gpuvirt.Sriov', 'SetNumVfs', 'ua{sv}', 'ao',
            "raise dbus.exceptions.DBusException('set-num-vfs (0000:41:00.0: 4 VFs asked, 4 now) was done, but the "
            "configuration could not be written: disk full; run the command again with --persist, or edit "
            "/etc/gpuvirt/gpuvirt.conf', name='org.gpuvirt.Error.ConfigInvalid')")
        p = self.ctl('sriov', GPU_B, '4', '--persist', code=1)
        self.assertIn('was done, but the configuration could not be written', p.stderr)
        self.assertIn("Hint: 'gpuvirtctl config check'", p.stderr)

    # ---- no daemon, help ----

    def test_daemon_absent(self):
        self.stop_mock()
        for args in (['config'], ['config', 'check'], ['config', 'reload'], ['apply', '--dry-run']):
            p = self.ctl(*args, code=5)
            self.assertIn('gpuvirtd is not running', p.stderr)
            self.assertEqual(p.stdout, '')

    def test_help(self):
        overall = self.ctl('--help').stdout
        for line in ('config show', 'config check [FILE|-]', 'config save FILE|-', 'config reload', 'apply'):
            self.assertIn('  ' + line, overall)
        for option in ('--persist', '--apply', '--dry-run'):
            self.assertIn(option, overall)
        out = self.ctl('config', '--help').stdout
        self.assertIn('Usage: gpuvirtctl [OPTIONS...] config COMMAND', out)
        for line in ('config show', 'config check [FILE|-]', 'config save FILE|-', 'config reload'):
            self.assertIn('  ' + line, out)
        cases = (
            (['apply'], 'apply', ['--dry-run', '--json', '--timeout'], ['--persist', '--apply']),
            (['config', 'save'], 'config save FILE|-', ['--apply'], ['--json', '--persist']),
            (['bind'], 'bind DEVICE...', ['--persist'], ['--dry-run']),
            (['unbind'], 'unbind DEVICE...', [], ['--persist']),
            (['sriov'], 'sriov DEVICE [N|off]', ['--persist'], []),
            (['vgpu', 'create'], 'vgpu create DEVICE TYPE', ['--persist'], []),
            (['vgpu', 'remove'], 'vgpu remove VGPU', ['--persist'], []),
        )
        for words, usage, present, absent in cases:
            out = self.ctl(*words, '--help').stdout
            self.assertIn(f'Usage: gpuvirtctl [OPTIONS...] {usage}\n', out)
            for option in present:
                self.assertIn(option, out, words)
            for option in absent:
                self.assertNotIn(option, out, words)
        self.assertIn("Unknown command 'config frobnicate'", self.ctl('config', 'frobnicate', code=2).stderr)


def load_tests(loader, tests, pattern):
    """Only this file's tests: the inherited ones run in client-mock."""
    return unittest.TestSuite(ConfigClientTest(name) for name in sorted(vars(ConfigClientTest))
                              if name.startswith('test_'))


if __name__ == '__main__':
    if not base.CTL or not os.access(base.CTL, os.X_OK) or not base.DBUS_DIR:
        sys.exit('test-client-config: set GPUVIRTCTL to the binary and GPUVIRT_DBUS_DIR to dbus/')
    unittest.main(verbosity=2)
