#!/usr/bin/env python3
# Checks the built polkit action file against gpuvirt's rules:
#   - exactly the actions of dbus/gpuvirt-names.h, no others;
#   - nothing is granted without authentication ("yes" nowhere);
#   - auth_admin_keep for active sessions and auth_admin otherwise, and
#     plain auth_admin everywhere for org.gpuvirt.modify-config;
#   - a description and a message per action;
#   - imply annotations name existing actions, and the force variant
#     implies the plain one.
#
# usage: check-policy.py HEADER POLICY
import re
import sys
import xml.etree.ElementTree as ET

CONFIG = "org.gpuvirt.modify-config"
problems = []


def main():
    header, policy = sys.argv[1], sys.argv[2]
    with open(header, encoding="utf-8") as f:
        wanted = set(re.findall(r'^#define\s+GPUVIRT_ACTION_\w+\s+"([^"]+)"', f.read(), re.M))
    if len(wanted) != 6:
        problems.append(f"expected 6 actions in the header, found {len(wanted)}")

    root = ET.parse(policy).getroot()
    actions = {a.get("id"): a for a in root.findall("action")}
    if set(actions) != wanted:
        problems.append(f"actions {sorted(actions)} differ from the header's {sorted(wanted)}")

    for aid, a in actions.items():
        for tag in ("description", "message"):
            untranslated = [e for e in a.findall(tag)
                            if "{http://www.w3.org/XML/1998/namespace}lang" not in e.attrib]
            if len(untranslated) != 1 or not (untranslated[0].text or "").strip():
                problems.append(f"{aid}: needs one untranslated <{tag}>")
        d = a.find("defaults")
        if d is None:
            problems.append(f"{aid}: no <defaults>")
            continue
        got = {k: (d.findtext(k) or "").strip() for k in ("allow_any", "allow_inactive", "allow_active")}
        if aid == CONFIG:
            want = {"allow_any": "auth_admin", "allow_inactive": "auth_admin", "allow_active": "auth_admin"}
        else:
            want = {"allow_any": "auth_admin", "allow_inactive": "auth_admin",
                    "allow_active": "auth_admin_keep"}
        if got != want:
            problems.append(f"{aid}: defaults {got}, want {want}")
        for ann in a.findall("annotate"):
            if ann.get("key") == "org.freedesktop.policykit.imply":
                for implied in (ann.text or "").split():
                    if implied not in actions:
                        problems.append(f"{aid}: implies unknown action {implied}")
                    if implied == aid:
                        problems.append(f"{aid}: implies itself")

    force = actions.get("org.gpuvirt.assign-device-force")
    if force is not None:
        imp = " ".join(x.text or "" for x in force.findall("annotate")
                       if x.get("key") == "org.freedesktop.policykit.imply").split()
        if "org.gpuvirt.assign-device" not in imp:
            problems.append("assign-device-force must imply assign-device")

    with open(policy, encoding="utf-8") as f:
        text = f.read()
    if re.search(r"<allow_\w+>\s*yes\s*<", text):
        problems.append("an action is granted with 'yes'")

    for p in problems:
        print("FAIL: " + p)
    if problems:
        return 1
    print(f"policy ok: {len(actions)} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
