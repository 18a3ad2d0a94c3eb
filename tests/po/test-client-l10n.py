#!/usr/bin/python3
"""gpuvirtctl in German and Simplified Chinese (meson suite po).

The built gpuvirtctl runs with the catalogs of the build tree
(GPUVIRTCTL_LOCALEDIR=BUILD/po, which only tests set) in locales this test
generates into a private directory (localedef, LOCPATH: nothing on the
machine changes), and its real output is checked: --help and every
command's help, usage errors, a system bus that is not there, and, on the
python3-dbusmock model of tests/test-client-mock.py, list, show, status,
types, doctor and errors whose daemon message stays English while the
client's words around it are translated. Columns must line up by terminal
columns (a CJK character takes 2), in a pipe and cut to a terminal's width
on a pseudo-terminal; JSON must not change with the language.

German runs as LANG=de_DE.UTF-8 LANGUAGE=de, Chinese as LC_ALL=zh_CN.UTF-8.

Environment: GPUVIRTCTL, GPUVIRT_DBUS_DIR, GPUVIRTCTL_LOCALEDIR. A missing
localedef or locale source (Debian's `locales`), catalog or python3-dbusmock
fails the test; it never skips.
"""
import importlib.util
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import unittest

_spec = importlib.util.spec_from_file_location(
    'client_mock', os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'test-client-mock.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

CTL = base.CTL
LOCALEDIR = os.environ.get('GPUVIRTCTL_LOCALEDIR', '')
GPU_A, GPU_B, AUDIO_A = base.GPU_A, base.GPU_B, base.AUDIO_A
TIMEOUT = 20

LOCALES = {'de': 'de_DE', 'zh_CN': 'zh_CN'}
LIST_ORDER = ['ADDRESS', 'CLASS', 'VENDOR', 'DEVICE', 'DESCRIPTION', 'IOMMU', 'VFIO', 'DRIVER', 'VGPU', 'STATE']
LIST_HEADERS = {
    'de': ['ADRESSE', 'KLASSE', 'HERSTELLER', 'GERÄT', 'BESCHREIBUNG', 'IOMMU', 'VFIO', 'TREIBER', 'VGPU', 'ZUSTAND'],
    'zh_CN': ['地址', '类别', '厂商', '设备', '描述', 'IOMMU', 'VFIO', '驱动程序', 'VGPU', '状态'],
}
VERBS = [['status'], ['list'], ['show'], ['monitor'], ['bind'], ['return'], ['unbind'], ['sriov'], ['types'],
         ['vgpu'], ['vgpu', 'list'], ['vgpu', 'create'], ['vgpu', 'remove'], ['doctor'], ['config'],
         ['config', 'show'], ['config', 'check'], ['config', 'save'], ['config', 'reload'], ['apply']]

DOCTOR = '''ret = [
    ("iommu-present", "ok", "host", "IOMMU groups are present", ""),
    ("vfio-pci-module", "error", "host", "vfio-pci is not loaded",
     "modprobe vfio-pci\\necho vfio-pci > /etc/modules-load.d/vfio-pci.conf"),
    ("group-shared", "warning", "%s", "the IOMMU group is shared with 0000:05:00.0",
     "Move the card to another slot\\nor enable ACS in the firmware"),
]''' % GPU_A


def width(text):
    """Terminal columns, as the client counts them: wide 2, combining 0."""
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) in ('Mn', 'Me', 'Cf')
               else 2 if unicodedata.east_asian_width(c) in ('W', 'F') else 1 for c in text)


def columns(line):
    """[(start column, character)] of LINE."""
    out, col = [], 0
    for c in line:
        out.append((col, c))
        col += width(c)
    return out


def column_of(line, fragment):
    """The terminal column where FRAGMENT starts in LINE."""
    i = line.index(fragment)
    return width(line[:i])


def parse_table(text):
    """Header names and rows (lists of cells), cutting each line at the
    header's column starts counted in terminal columns."""
    lines = text.rstrip('\n').split('\n')
    header = lines[0]
    starts = [width(header[:m.start()]) for m in re.finditer(r'\S+', header)]
    names = header.split()
    rows = []
    for line in lines[1:]:
        cells = [''] * len(starts)
        for col, c in columns(line):
            i = max(j for j, s in enumerate(starts) if s <= col)
            cells[i] += c
        rows.append([c.strip() for c in cells])
    return names, rows


class L10nTest(base.ClientMockTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        missing = [p for p in ('localedef',) if not shutil.which(p)]
        if missing:
            raise RuntimeError('localedef not found (package libc-bin)')
        for lang in LOCALES:
            mo = os.path.join(LOCALEDIR, lang, 'LC_MESSAGES', 'gpuvirt.mo')
            if not os.path.exists(mo):
                raise RuntimeError(f'{mo} not built: set GPUVIRTCTL_LOCALEDIR to BUILD/po')
        cls.locpath = tempfile.mkdtemp(prefix='gpuvirt-locales-')
        for name in LOCALES.values():
            source = f'/usr/share/i18n/locales/{name}'
            if not os.path.exists(source):
                raise RuntimeError(f'{source} missing: install Debian\'s locales package (tools/deps.sh)')
            out = os.path.join(cls.locpath, name + '.UTF-8')
            p = subprocess.run(['localedef', '-i', name, '-f', 'UTF-8', out], capture_output=True, text=True)
            if p.returncode != 0 or not os.path.isdir(os.path.join(out, 'LC_MESSAGES')):
                raise RuntimeError(f'localedef {name}.UTF-8 failed ({p.returncode}): {p.stderr}')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.locpath, ignore_errors=True)
        super().tearDownClass()

    # ---- running the client in a language ----

    def env(self, lang, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('LC_') and k not in ('LANG', 'LANGUAGE')}
        env.update(LOCPATH=self.locpath, GPUVIRTCTL_LOCALEDIR=LOCALEDIR, COLUMNS='60')
        if lang == 'de':
            env.update(LANG='de_DE.UTF-8', LANGUAGE='de')
        elif lang == 'zh_CN':
            env.update(LC_ALL='zh_CN.UTF-8')
        else:
            env.update(LC_ALL=lang)
        env.update(extra)
        return env

    def run_in(self, lang, *args, code=0, **extra):
        p = subprocess.run([CTL, *args], capture_output=True, text=True, env=self.env(lang, **extra),
                           timeout=TIMEOUT)
        self.assertNotIn('runtime error', p.stderr)   # UBSan
        self.assertNotIn('ERROR: AddressSanitizer', p.stderr)
        self.assertEqual(p.returncode, code, f'[{lang}] gpuvirtctl {" ".join(args)}: {p.stderr}')
        return p

    def run_on_pty(self, lang, *args, cols):
        """stdout on a pseudo-terminal (so tables are cut to COLUMNS)."""
        master, slave = pty.openpty()
        proc = subprocess.Popen([CTL, *args], stdout=slave, stderr=subprocess.PIPE,
                                env=self.env(lang, COLUMNS=str(cols)))
        os.close(slave)
        out = b''
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the other side closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        proc.wait(TIMEOUT)
        self.assertEqual(proc.returncode, 0, proc.stderr.read().decode())
        proc.stderr.close()
        return out.decode('utf-8').replace('\r\n', '\n')

    # ---- the locales and catalogs are the ones meant ----

    def test_catalogs_from_build_tree(self):
        # C gives English with the catalogs there; without them, English too
        self.assertIn('Usage: gpuvirtctl', self.run_in('C', '--help').stdout)
        empty = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, empty)
        for lang in LOCALES:
            self.assertIn('Usage: gpuvirtctl', self.run_in(lang, '--help', GPUVIRTCTL_LOCALEDIR=empty).stdout)
        self.assertIn('Aufruf: gpuvirtctl', self.run_in('de', '--help').stdout)
        self.assertIn('用法：gpuvirtctl', self.run_in('zh_CN', '--help').stdout)
        # the generated locales are there: glibc's own words are German
        p = subprocess.run(['locale', 'yesexpr'], capture_output=True, text=True, env=self.env('de'))
        self.assertIn('j', p.stdout)

    # ---- help ----

    def test_help_de(self):
        out = self.run_in('de', '--help').stdout
        self.assertTrue(out.startswith('Aufruf: gpuvirtctl [OPTIONEN...] BEFEHL ...\n\n'
                                       'Verschiebt GPUs über gpuvirtd zwischen dem Host und virtuellen Maschinen.\n\n'
                                       'Befehle:\n'), out)
        # the summaries start at column 22 whatever the bytes of GERÄT
        self.assertIn('\n  show GERÄT          Alles über eine PCI-Funktion zeigen\n', out)
        self.assertIn('\n  sriov GERÄT [N|off] Virtuelle SR-IOV-Funktionen einer GPU zeigen oder setzen\n', out)
        self.assertIn('\n     --persist         Änderung auch in der gpuvirtd-Konfiguration speichern\n', out)
        self.assertIn('\nExit-Status:\n  0 Erfolg\n', out)
        self.assertIn('„gpuvirtctl BEFEHL --help“ zeigt die Hilfe zu einem Befehl.', out)
        verb = self.run_in('de', 'bind', '--help').stdout
        self.assertTrue(verb.startswith('Aufruf: gpuvirtctl [OPTIONEN...] bind GERÄT...\n\n'
                                        'Bindet jede GPU an vfio-pci,'), verb)

    def test_help_placeholders(self):
        """Option placeholders are translated, and the columns still line up."""
        de = self.run_in('de', 'sriov', '--help').stdout
        self.assertIn('\n     --timeout=SEKUNDEN Zeitlimit je Schreibvorgang in sysfs', de)
        self.assertIn('\n     --json[=MODUS]    JSON ausgeben', de)
        self.assertIn('\n  7 ausstehend: der Kernel führt die Änderung noch aus\n', de)
        zh = self.run_in('zh_CN', 'sriov', '--help').stdout
        line = next(line for line in zh.split('\n') if '--timeout=秒数' in line)
        # the help text starts in column 23, as every option's does
        self.assertEqual(width(re.match(r'^(\s*--timeout=秒数\s+)', line).group(1)), 23)

    def unbind_on_pty(self, answer, **env):
        """unbind GPU_A with ANSWER typed at the question; (exit code, stderr)."""
        self.mock_object(base.dev_path(GPU_A)).AddMethod(
            'org.gpuvirt.Device', 'Unbind', 'a{sv}', 'a(sss)', 'ret = [("%s", "unbound", "")]' % GPU_A)
        master, slave = pty.openpty()
        proc = subprocess.Popen([CTL, 'unbind', GPU_A], stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env('de', **env))
        os.close(slave)
        os.write(master, answer.encode() + b'\n')
        out, err = proc.communicate(timeout=TIMEOUT)
        os.close(master)
        return proc.returncode, err.decode()

    def test_unbind_answer(self):
        """The question follows LANGUAGE ([j/N]); "j" is yes even when
        LC_MESSAGES is a locale whose own yes is "y" (rpmatch)."""
        code, err = self.unbind_on_pty('j', LANG='zh_CN.UTF-8', LANGUAGE='de')
        self.assertIn('[j/N]', err)
        self.assertEqual(code, 0, err)
        code, err = self.unbind_on_pty('n', LANG='zh_CN.UTF-8', LANGUAGE='de')
        self.assertEqual(code, 1, err)
        self.assertIn('Es wurde nichts geändert.', err)

    def test_help_zh_CN(self):
        out = self.run_in('zh_CN', '--help').stdout
        self.assertTrue(out.startswith('用法：gpuvirtctl [选项...] 命令 ...\n\n'
                                       '通过 gpuvirtd 在主机和虚拟机之间移动 GPU。\n\n命令：\n'), out)
        # "show 设备" is 11 bytes and 9 columns: padded to 19 columns, not bytes
        self.assertIn('\n  show 设备           显示一个 PCI 功能的全部信息\n', out)
        self.assertIn('\n  sriov 设备 [N|off]  显示或设置 GPU 的 SR-IOV 虚拟功能\n', out)
        self.assertIn('\n退出状态：\n  0 成功\n', out)
        group = self.run_in('zh_CN', 'vgpu', '--help').stdout
        self.assertIn('\n  vgpu create 设备 类型    在 GPU 上创建一个指定类型的 vGPU\n', group)

    def test_help_layout(self):
        """Every help of both languages: no line wider than 80 columns, the
        options untranslated, the command summaries in one column."""
        for lang in LOCALES:
            for args in [[]] + VERBS:
                out = self.run_in(lang, *args, '--help').stdout
                for line in out.split('\n'):
                    self.assertLessEqual(width(line), 80, f'[{lang}] {args} --help: {line!r}')
                self.assertIn('--help', out)
                if args not in (['vgpu'], ['config']):   # a group's help lists commands only
                    self.assertIn('\n  -h --help            ', out)
                    self.assertIn('\n     --no-ask-password ', out)
            for args, col in (([], 22), (['vgpu'], 27), (['config'], 27)):
                out = self.run_in(lang, *args, '--help').stdout
                section = out.split('\n\n')[1 if args else 2].split('\n')
                checked = 0
                for line in section[1:]:
                    # "  HEAD  SUMMARY": a head as wide as its column or wider
                    # is followed by one space, as in English
                    m = re.match(r'  (\S+(?: \S+)*)( {2,})(\S.*)$', line)
                    if m:
                        self.assertEqual(width(line[:m.start(3)]), col, f'[{lang}] {args}: {line!r}')
                        checked += 1
                self.assertGreaterEqual(checked, 3, f'[{lang}] {args}: {section}')

    # ---- usage errors, no bus ----

    def test_usage_errors(self):
        p = self.run_in('de', 'frobnicate', code=2)
        self.assertEqual(p.stderr, 'Unbekannter Befehl „frobnicate“.\nSiehe „gpuvirtctl --help“.\n')
        p = self.run_in('zh_CN', 'frobnicate', code=2)
        self.assertEqual(p.stderr, '未知命令“frobnicate”。\n请参阅“gpuvirtctl --help”。\n')
        self.assertEqual(self.run_in('de', 'show', code=2).stderr,
                         '„show“ benötigt GERÄT.\nSiehe „gpuvirtctl --help“.\n')
        self.assertEqual(self.run_in('zh_CN', 'show', code=2).stderr,
                         '“show”需要 设备。\n请参阅“gpuvirtctl --help”。\n')
        self.assertIn('Unbekannter JSON-Modus „wide“: Verwenden Sie pretty, short oder off.',
                      self.run_in('de', 'list', '--json=wide', code=2).stderr)
        self.assertIn('选项 --all 不适用于“show”。', self.run_in('zh_CN', 'show', GPU_A, '--all', code=2).stderr)
        self.assertIn('--persist 用于记录更改：请给“sriov”指定 N（或“off”）。',
                      self.run_in('zh_CN', 'sriov', GPU_B, '--persist', code=2).stderr)

    def test_no_system_bus(self):
        bus = 'unix:path=/nonexistent'
        p = self.run_in('de', 'list', code=5, DBUS_SYSTEM_BUS_ADDRESS=bus)
        self.assertRegex(p.stderr, r'^Verbindung zum Systembus fehlgeschlagen: .+\n'
                                   r'Hinweis: DBUS_SYSTEM_BUS_ADDRESS ist „unix:path=/nonexistent“; '
                                   r'lauscht dort ein Bus\?\n$')
        self.assertEqual(p.stdout, '')
        p = self.run_in('zh_CN', 'status', code=5, DBUS_SYSTEM_BUS_ADDRESS=bus)
        self.assertRegex(p.stderr, r'^无法连接到系统总线：.+\n'
                                   r'提示：DBUS_SYSTEM_BUS_ADDRESS 为“unix:path=/nonexistent”；那里是否有总线在监听？\n$')

    def test_daemon_absent(self):
        self.stop_mock()
        p = self.run_in('de', 'list', code=5)
        self.assertIn('Hinweis: gpuvirtd läuft nicht: Starten Sie ihn mit „systemctl start gpuvirtd“', p.stderr)
        p = self.run_in('zh_CN', 'list', code=5)
        self.assertIn('提示：gpuvirtd 未在运行：请用“systemctl start gpuvirtd”启动它', p.stderr)

    # ---- against the mock ----

    def test_list(self):
        want = [[self.expected_row(self.device_props(a))[k] for k in LIST_ORDER]
                for a in self.addresses(managed_only=True)]
        for lang in LOCALES:
            names, rows = parse_table(self.run_in(lang, 'list').stdout)
            self.assertEqual(names, LIST_HEADERS[lang])
            self.assertEqual(rows, want, lang)

    def test_list_cut_on_terminal(self):
        """On a terminal of 120 columns the description is cut with "..."
        and the columns stay in line."""
        desc = LIST_ORDER.index('DESCRIPTION')
        for lang in LOCALES:
            want = [[self.expected_row(self.device_props(a))[k] for k in LIST_ORDER]
                    for a in self.addresses(managed_only=False)]
            out = self.run_on_pty(lang, 'list', '--all', cols=120)
            for line in out.rstrip('\n').split('\n'):
                self.assertLessEqual(width(line), 120, f'[{lang}] {line!r}')
            names, rows = parse_table(out)
            self.assertEqual(names, LIST_HEADERS[lang])
            self.assertEqual(len(rows), len(want))
            cut = 0
            for row, full in zip(rows, want):
                if row[desc] != full[desc]:
                    cut += 1
                    self.assertTrue(row[desc].endswith('...'), row)
                    self.assertTrue(full[desc].startswith(row[desc][:-3]), row)
                row[desc] = full[desc] = ''
                self.assertEqual(row, full, lang)
            self.assertGreater(cut, 0, out)

    def test_show_fields(self):
        for lang, label, value in (('de', 'Hersteller', '10de NVIDIA Corporation'), ('de', 'Boot-VGA', 'ja'),
                                   ('de', 'Belegt von', '1234 Xorg /dev/nvidia0'),
                                   ('zh_CN', '厂商', '10de NVIDIA Corporation'), ('zh_CN', '启动 VGA', '是'),
                                   ('zh_CN', 'IOMMU 组', '12')):
            out = self.run_in(lang, 'show', GPU_A).stdout
            fields = out.split('\n\n')[0].split('\n')
            # labels right-aligned: every colon in the same column (a value's
            # further lines are indented past it)
            found = [(len(line) - len(line.lstrip(' ')), column_of(line, ': ')) for line in fields if ': ' in line]
            label_col = min(c for _, c in found)
            for lead, c in found:
                if lead < label_col + 2:
                    self.assertEqual(c, label_col, f'[{lang}] {fields}')
            self.assertGreater(len(found), 20)
            self.assertTrue(any(line.strip().startswith(f'{label}: {value}') for line in fields),
                            f'[{lang}] {label}: {value} not in {fields}')

    def test_status(self):
        n = len(self.manager['Devices'])
        out = self.run_in('de', 'status').stdout
        self.assertRegex(out, r'(?m)^ *Version: 0\.1\.0 \(API 1\)$')
        self.assertRegex(out, rf'(?m)^ *Geräte: {n} verwaltete Funktionen$')
        self.assertRegex(out, r'(?m)^ *IOMMU: intel, Interrupt-Remapping$')
        out = self.run_in('zh_CN', 'status').stdout
        self.assertRegex(out, r'(?m)^ *版本: 0\.1\.0（API 1）$')
        self.assertRegex(out, rf'(?m)^ *设备: {n} 个受管理的功能$')
        self.assertRegex(out, r'(?m)^ *启动计划: done（1 个步骤）$')
        # the boot plan table under the fields, headers translated
        names, rows = parse_table(out.split('\n\n')[1])
        self.assertEqual(names, ['阶段', '设备', '操作', '状态', '消息'])
        self.assertEqual(rows, [['passthrough', base.VF_USED, 'bind vfio-pci', 'done', '-']])

    def test_types(self):
        out = self.run_in('zh_CN', 'types', GPU_B).stdout
        self.assertIn('框架: vendor-vfio', out)
        names, rows = parse_table(out.split('\n\n')[1])
        self.assertEqual(names, ['ID', '名称', '帧缓冲', '可用', '最大', '系列', '描述'])
        self.assertEqual(rows[0][:5], ['1155', 'NVIDIA L40S-24Q', '24576 MiB', '1', '2'])

    def test_doctor(self):
        self.mock.AddMethod('org.gpuvirt.Manager', 'Doctor', '', 'a(sssss)', DOCTOR)
        for lang, fix, summary in (('de', 'Abhilfe:', '1 Fehler, 1 Warnung, 0 Hinweise, 1 bestanden.'),
                                   ('zh_CN', '修复:', '1 个错误，1 个警告，0 条提示，1 项通过。')):
            out = self.run_in(lang, 'doctor', code=6).stdout
            lines = out.split('\n')
            self.assertEqual(lines[-2], summary)
            # a fix's further lines start where its first line's text does
            first = next(line for line in lines if fix + ' modprobe' in line)
            after = next(line for line in lines if line.strip().startswith('echo vfio-pci'))
            self.assertEqual(column_of(first, 'modprobe'), column_of(after, 'echo'), out)
            first = next(line for line in lines if fix + ' Move the card' in line)
            after = next(line for line in lines if line.strip().startswith('or enable ACS'))
            self.assertEqual(column_of(first, 'Move'), column_of(after, 'or enable'), out)
            # the messages after the severity words in one column
            starts = {column_of(line, m) for line in lines
                      for m in ('IOMMU groups are', 'vfio-pci is not', 'the IOMMU group') if m in line}
            self.assertEqual(len(starts), 1, out)

    def test_daemon_messages_stay_english(self):
        # InvalidArgs from GetDevice: the mock's English message, in the client's words
        p = self.run_in('de', 'show', 'zz', code=2)
        self.assertRegex(p.stderr,
                         r"^„zz“ ist weder eine PCI-Adresse noch ein Geräteobjektpfad: "
                         r"\S*'zz'\)? is not a PCI address or device path\n"
                         r'Hinweis: Geben Sie ein Gerät als 0000:0b:00\.0, 0b:00\.0 oder '
                         r'/org/gpuvirt/devices/pci_0000_0b_00_0 an\.\n$')
        p = self.run_in('zh_CN', 'show', 'error:org.gpuvirt.Error.Busy', code=6)
        self.assertEqual(p.stderr,
                         '无法查找该设备: mock failure for the test\n'
                         '提示：此设备上正在进行另一项操作；请等它结束（可用“gpuvirtctl monitor”查看）后重试。\n')
        p = self.run_in('de', 'show', '0000:99:00.0', code=3)
        self.assertEqual(p.stderr, 'Keine PCI-Funktion „0000:99:00.0“ auf diesem Host.\n'
                                   'Hinweis: „gpuvirtctl list --all“ zeigt alle PCI-Funktionen dieses Hosts.\n')

    def test_json_does_not_change(self):
        for args in (['list', '--all', '--json=short'], ['show', GPU_A, '--json'], ['status', '--json']):
            english = self.run_in('C', *args).stdout
            for lang in LOCALES:
                self.assertEqual(self.run_in(lang, *args).stdout, english, f'[{lang}] {args}')


def load_tests(loader, tests, pattern):
    """Only this file's tests: the inherited ones run in client-mock."""
    return unittest.TestSuite(L10nTest(name) for name in sorted(vars(L10nTest)) if name.startswith('test_'))


if __name__ == '__main__':
    if not CTL or not os.access(CTL, os.X_OK) or not base.DBUS_DIR or not LOCALEDIR:
        sys.exit('test-client-l10n: set GPUVIRTCTL, GPUVIRT_DBUS_DIR and GPUVIRTCTL_LOCALEDIR (BUILD/po)')
    unittest.main(verbosity=2)
