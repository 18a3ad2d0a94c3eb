#!/usr/bin/env python3
# Runs a private dbus-daemon of type "system" whose configuration includes
# gpuvirt's bus policy and activation directory, and checks them.
#
#   test-dbus-policy.py parse DBUS_DAEMON POLICY SERVICEDIR
#       dbus-daemon must start with the policy (it refuses a config it
#       cannot parse) and must list org.gpuvirt as activatable.
#   test-dbus-policy.py enforce DBUS_DAEMON POLICY SERVICEDIR
#       as root: owns org.gpuvirt as root, then checks as user "nobody"
#       what may be called and that the name cannot be taken. Exit 77
#       (skipped) when not root or python3-gi is missing.
import os
import pwd
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <!-- The system bus's stance: nothing may be owned or called unless a
       service's own policy opens it. -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


def fail(text):
    print("FAIL: " + text)
    sys.exit(1)


def start_bus(dbus_daemon, policy, servicedir, tmp):
    socket = os.path.join(tmp, "system_bus_socket")
    config = os.path.join(tmp, "bus.conf")
    with open(config, "w", encoding="utf-8") as f:
        f.write(BUS_CONFIG.format(socket=socket, servicedir=os.path.abspath(servicedir),
                                  policy=os.path.abspath(policy)))
    proc = subprocess.Popen([dbus_daemon, "--nofork", "--nopidfile", "--nosyslog",
                             "--config-file=" + config, "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        proc.wait(timeout=10)
        fail(f"dbus-daemon refused the configuration (exit {proc.returncode}):\n"
             + proc.stderr.read())
    return proc, address


def stop_bus(proc, expected=()):
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    # dbus-daemon reports problems with service files and included
    # configuration on stderr without failing; only the fd limit warning of
    # an unprivileged or confined bus is expected there.
    leftovers = [line for line in proc.stderr.read().splitlines()
                 if line.strip() and "Failed to set fd limit" not in line
                 and not any(e in line for e in expected)]
    if leftovers:
        fail("dbus-daemon complained:\n" + "\n".join(leftovers))


def dbus_send(address, dest, path, method, *args, user=None):
    cmd = ["dbus-send", "--bus=" + address, "--print-reply", "--reply-timeout=5000",
           "--dest=" + dest, path, method, *args]
    preexec = None
    if user is not None:
        pw = pwd.getpwnam(user)

        def preexec():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=15, preexec_fn=preexec)
    return r.returncode, r.stdout + r.stderr


def check_parse(dbus_daemon, policy, servicedir):
    with tempfile.TemporaryDirectory() as tmp:
        proc, address = start_bus(dbus_daemon, policy, servicedir, tmp)
        try:
            rc, out = dbus_send(address, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus.ListActivatableNames")
            if rc != 0:
                fail("ListActivatableNames failed: " + out)
            if '"org.gpuvirt"' not in out:
                fail("org.gpuvirt is not activatable; the activation file was not taken:\n" + out)
        finally:
            stop_bus(proc)
    print("dbus-daemon accepted the policy; org.gpuvirt is activatable")


class Owner:
    """A root connection that owns org.gpuvirt and answers every method
    call with the error org.gpuvirt.Test.Reached, so a caller can tell
    "delivered" from "refused by the bus"."""

    def __init__(self, address):
        from gi.repository import Gio, GLib
        self.Gio, self.GLib = Gio, GLib
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        self.conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        self.conn.add_filter(self.filter)
        reply = self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "RequestName",
                                    GLib.Variant("(su)", ("org.gpuvirt", 4)),
                                    GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, 5000, None)
        if reply.unpack()[0] != 1:
            fail(f"root could not become the owner of org.gpuvirt ({reply.unpack()[0]})")
        self.loop = GLib.MainLoop()
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def filter(self, conn, message, incoming):
        if incoming and message.get_message_type() == self.Gio.DBusMessageType.METHOD_CALL \
                and message.get_sender() != "org.freedesktop.DBus":
            err = message.new_method_error_literal("org.gpuvirt.Test.Reached", "delivered")
            conn.send_message(err, self.Gio.DBusSendMessageFlags.NONE)
            return None
        return message

    def close(self):
        self.conn.close_sync(None)
        self.loop.quit()


def expect(address, user, method, reached, path="/org/gpuvirt"):
    rc, out = dbus_send(address, "org.gpuvirt", path, method, user=user)
    got_reached = "org.gpuvirt.Test.Reached" in out
    got_denied = "AccessDenied" in out
    who = user or "root"
    if reached and not got_reached:
        fail(f"{who} calling {method} should reach the service, got: {out.strip()}")
    if not reached and not got_denied:
        fail(f"{who} calling {method} should be refused by the bus, got: {out.strip()}")
    print(f"ok: {who} {method} -> {'delivered' if reached else 'AccessDenied'}")


def check_enforce(dbus_daemon, policy, servicedir):
    if os.geteuid() != 0:
        print("SKIP: needs root to own the name and to switch to nobody")
        sys.exit(SKIP)
    try:
        import gi  # noqa: F401
        from gi.repository import Gio  # noqa: F401
    except ImportError:
        # A python3 of its own (pyenv, venv) may lack the distribution's gi;
        # the system one has it when python3-gi is installed.
        system = "/usr/bin/python3"
        if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system) \
                and not os.environ.get("GPUVIRT_POLICY_TEST_REEXEC"):
            os.environ["GPUVIRT_POLICY_TEST_REEXEC"] = "1"
            os.execv(system, [system] + sys.argv)
        print("SKIP: python3-gi is missing (tools/deps.sh installs it)")
        sys.exit(SKIP)
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP: no user nobody")
        sys.exit(SKIP)

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        proc, address = start_bus(dbus_daemon, policy, servicedir, tmp)
        owner = None
        try:
            # nobody cannot take the name, root can (Owner below).
            rc, out = dbus_send(address, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus.RequestName", "string:org.gpuvirt",
                                "uint32:0", user="nobody")
            if "AccessDenied" not in out:
                fail("nobody could request org.gpuvirt: " + out.strip())
            print("ok: nobody may not own org.gpuvirt")

            owner = Owner(address)
            for iface_method in ("org.gpuvirt.Manager.GetDevice",
                                 "org.gpuvirt.Device.BindVfio",
                                 "org.gpuvirt.Sriov.SetNumVfs",
                                 "org.gpuvirt.Vgpu.CreateVgpu",
                                 "org.gpuvirt.Mdev.Remove",
                                 "org.gpuvirt.Mig.SetMode",
                                 "org.freedesktop.DBus.Introspectable.Introspect",
                                 "org.freedesktop.DBus.Properties.GetAll",
                                 "org.freedesktop.DBus.Peer.Ping",
                                 "org.freedesktop.DBus.ObjectManager.GetManagedObjects"):
                expect(address, "nobody", iface_method, reached=True)
            for iface_method in ("org.freedesktop.LogControl1.SetLogLevel",
                                 "org.gpuvirtx.Manager.GetDevice",
                                 "org.example.Anything.Do"):
                expect(address, "nobody", iface_method, reached=False)
                expect(address, None, iface_method, reached=True)
        finally:
            if owner:
                owner.close()
            # The refusals this test provokes are logged.
            stop_bus(proc, expected=("Rejected send message",))
    print("the policy is enforced as intended")


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("parse", "enforce"):
        print(__doc__ or "usage: test-dbus-policy.py parse|enforce DBUS_DAEMON POLICY SERVICEDIR")
        return 2
    mode, dbus_daemon, policy, servicedir = sys.argv[1:]
    if mode == "parse":
        check_parse(dbus_daemon, policy, servicedir)
    else:
        check_enforce(dbus_daemon, policy, servicedir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
