// Runs the example rules file against a stand-in for polkit's rule API and
// checks the decisions. usage: node test-rules-example.js RULES GROUP
"use strict";
const fs = require("fs");
const vm = require("vm");

const [rulesPath, group] = process.argv.slice(2);
const rules = [];
const polkit = {
  Result: { YES: "yes", NO: "no", AUTH_ADMIN: "auth_admin", NOT_HANDLED: null },
  addRule(fn) { rules.push(fn); },
  log() {},
};
// Plain ECMAScript 5 is what polkit's interpreter takes; reject later syntax.
const source = fs.readFileSync(rulesPath, "utf8");
const code = source.replace(/\/\/.*$/gm, "");
for (const bad of [/=>/, /\blet\s/, /\bconst\s/, /`/, /\bclass\s/]) {
  if (bad.test(code)) {
    console.log(`FAIL: rules use syntax newer than ECMAScript 5: ${bad}`);
    process.exit(1);
  }
}
vm.runInNewContext(source, { polkit });
if (rules.length !== 1) {
  console.log(`FAIL: expected one rule, got ${rules.length}`);
  process.exit(1);
}

function decide(id, details, who) {
  const action = { id, lookup: (k) => details[k] };
  const subject = {
    local: who.local, active: who.active,
    isInGroup: (g) => who.groups.includes(g),
  };
  for (const r of rules) {
    const res = r(action, subject);
    if (res !== null && res !== undefined) return res;
  }
  return null;
}

const member = { local: true, active: true, groups: [group] };
const nvidia = { device: "0000:01:00.0", vendor: "10de", model: "2204" };
const cases = [
  ["member, assign-device, NVIDIA", "org.gpuvirt.assign-device", nvidia, member, "yes"],
  ["member, configure-sriov", "org.gpuvirt.configure-sriov", nvidia, member, "yes"],
  ["member, configure-vgpu, two NVIDIA", "org.gpuvirt.configure-vgpu",
   { device: "0000:01:00.0 0000:41:00.0", vendor: "10de 10de", model: "2204 26b9" }, member, "yes"],
  ["member, configure-mig", "org.gpuvirt.configure-mig",
   { device: "0000:41:00.0", vendor: "10de", model: "2331", profile: "1g.10gb", count: "3" }, member, "yes"],
  ["member, force is not granted", "org.gpuvirt.assign-device-force", nvidia, member, null],
  ["member, config is not granted", "org.gpuvirt.modify-config", {}, member, null],
  ["member, other vendor", "org.gpuvirt.assign-device",
   { device: "0000:02:00.0", vendor: "8086", model: "56a0" }, member, null],
  ["member, one of two foreign", "org.gpuvirt.assign-device",
   { device: "0000:01:00.0 0000:02:00.0", vendor: "10de 8086", model: "2204 56a0" }, member, null],
  ["member, no details", "org.gpuvirt.assign-device", {}, member, null],
  ["member, remote", "org.gpuvirt.assign-device", nvidia,
   { local: false, active: true, groups: [group] }, null],
  ["member, inactive", "org.gpuvirt.assign-device", nvidia,
   { local: true, active: false, groups: [group] }, null],
  ["not a member", "org.gpuvirt.assign-device", nvidia,
   { local: true, active: true, groups: ["users"] }, null],
  ["other action", "org.freedesktop.login1.reboot", {}, member, null],
];
let failed = 0;
for (const [name, id, details, who, want] of cases) {
  const got = decide(id, details, who);
  if (got !== want) {
    console.log(`FAIL: ${name}: got ${got}, want ${want}`);
    failed++;
  } else {
    console.log(`ok: ${name} -> ${got === null ? "not handled" : got}`);
  }
}
process.exit(failed ? 1 : 0);
