/* gpuvirtctl: the verb table, option parsing and the bus connection. The
 * client is unprivileged and knows the host only through gpuvirtd. */
#include "ctl.h"

#include "error-hint.h"
#include "gpuvirt-names.h"
#include "text.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GPUVIRT_VERSION
#error "GPUVIRT_VERSION must be defined by the build"
#endif

CtlArgs ctl_args = { .json = CTL_JSON_OFF, .guest_bus = 0x10 };

/* Options a verb may take beyond --help and --no-ask-password. */
enum
{
  OPT_JSON = 1 << 0,
  OPT_ALL = 1 << 1,
  OPT_FORCE = 1 << 2,
  OPT_ALLOW_FOREIGN = 1 << 3,
  OPT_KEEP_GOING = 1 << 4,
  OPT_TIMEOUT = 1 << 5,
  OPT_DRIVER = 1 << 6,
  OPT_YES = 1 << 7,
  OPT_VERBOSE = 1 << 8,
  OPT_UUID = 1 << 9,
  OPT_NUM_VFS = 1 << 10,
  OPT_DISABLE_VFS = 1 << 11,
  OPT_PERSIST = 1 << 12,
  OPT_APPLY = 1 << 13,
  OPT_DRY_RUN = 1 << 14,
  OPT_COUNT = 1 << 15,
  OPT_PENDING = 1 << 16,
  OPT_NO_COMPUTE = 1 << 17,
  OPT_CONFIG = 1 << 18,
  OPT_GUEST_BUS = 1 << 19,
  OPT_ROOT = 1 << 20,
};

/* What the passthrough verbs share. */
#define OPT_PASSTHROUGH (OPT_JSON | OPT_FORCE | OPT_KEEP_GOING | OPT_TIMEOUT | OPT_VERBOSE)

/* The options --help lists, in this order, and the name a usage error
 * gives each. */
static const struct
{
  guint bit;
  const char *name;  /* in "does not apply" messages */
  const char *head;  /* the option column of --help */
  const char *arg;   /* N_(): its placeholder ("SECONDS"), or NULL */
  const char *help;  /* N_() */
} option_help[] = {
  /* TRANSLATORS: the N_() after an option is its placeholder in --help
     ("--timeout=SECONDS"): translate it, not the option */
  { OPT_ALL, "--all", "  -a --all", NULL, NULL /* depends on the verb, see below */ },
  { OPT_FORCE, "--force", "  -f --force", NULL,
    N_("Go ahead despite programs, a VM or the console on it") },
  { OPT_ALLOW_FOREIGN, "--allow-foreign", "     --allow-foreign", NULL,
    N_("Also take other devices that share the IOMMU group") },
  { OPT_KEEP_GOING, "--keep-going", "     --keep-going", NULL,
    N_("Change IOMMU groups on their own; report failed ones") },
  { OPT_TIMEOUT, "--timeout", "     --timeout=", N_("SECONDS"),
    N_("Bound of each write to sysfs (gpuvirtd's default: 10)") },
  { OPT_DRIVER, "--driver", "     --driver=", N_("NAME"),
    N_("Give the GPU to this driver instead of the one it had") },
  { OPT_YES, "--yes", "  -y --yes", NULL, N_("Do not ask for confirmation") },
  { OPT_VERBOSE, "--verbose", "     --verbose", NULL,
    N_("Print each state change, even when not on a terminal") },
  { OPT_UUID, "--uuid", "     --uuid=", N_("UUID"),
    N_("The mdev's UUID (mdev GPUs; default: a new random one)") },
  { OPT_NUM_VFS, "--num-vfs", "     --num-vfs=", N_("N"),
    N_("VFs to enable when none are (default: all the GPU has)") },
  { OPT_DISABLE_VFS, "--disable-vfs", "     --disable-vfs", NULL,
    N_("Also disable the VFs when the GPU's last vGPU goes") },
  { OPT_PERSIST, "--persist", "     --persist", NULL,
    N_("Also record the change in gpuvirtd's configuration") },
  { OPT_APPLY, "--apply", "     --apply", NULL,
    N_("Then bring the host to the saved configuration") },
  { OPT_DRY_RUN, "--dry-run", "     --dry-run", NULL,
    N_("Only show what would change; change nothing") },
  { OPT_COUNT, "--count", "     --count=", N_("N"),
    N_("How many GPU instances to make (default: 1)") },
  { OPT_PENDING, "--pending", "     --pending", NULL,
    N_("Do not reset the GPU: the mode waits for a reset or boot") },
  { OPT_NO_COMPUTE, "--no-compute-instances", "     --no-compute-instances", NULL,
    N_("Make no compute instances (for MIG-backed vGPUs)") },
  { OPT_CONFIG, "--config", "     --config=", N_("NAME"),
    N_("Which of the file's configurations to import") },
  { OPT_GUEST_BUS, "--guest-bus", "     --guest-bus=", N_("BUS"),
    N_("Guest PCI bus of a multifunction device (default: 0x10)") },
  { OPT_ROOT, "--root", "     --root=", N_("DIR"),
    N_("Read the tool's files below DIR instead of /") },
  { OPT_JSON, "--json", "     --json[=", N_("MODE"),
    N_("Print JSON: pretty (the default), short (one line) or off") },
};

typedef struct
{
  const char *name;
  int min_args, max_args; /* after the verb */
  guint options;
  int (*run) (sd_bus *bus, int argc, char **argv);
  const char *synopsis;   /* N_() */
  const char *summary;    /* N_() */
  const char *details;    /* N_() */
} Verb;

static const Verb verbs[] = {
  { "status", 0, 0, OPT_JSON, verb_status, "",
    N_("Show the version, IOMMU, vfio-pci and counts (the default)"),
    N_("Shows the version of gpuvirtd and its API, the root it reads, the IOMMU and\n"
       "interrupt remapping, whether vfio-pci and NVIDIA's vGPU manager are there,\n"
       "how many functions and mdevs gpuvirt manages, and the configuration and\n"
       "boot plan state.\n") },
  { "list", 0, 0, OPT_JSON | OPT_ALL, verb_list, "",
    N_("List GPUs, their companion functions and VFs"),
    N_("Lists the PCI functions gpuvirt manages (GPUs, their companion functions and\n"
       "virtual functions) with their IDs, names, IOMMU group, VFIO node, driver,\n"
       "vGPU framework and state. With --all, every PCI function of the host.\n") },
  { "show", 1, 1, OPT_JSON, verb_show, N_("DEVICE"),
    N_("Show everything about one PCI function"),
    N_("Shows every property of one PCI function: identity, driver, state, IOMMU\n"
       "group and its verdict, foreign group members, companions, SR-IOV virtual\n"
       "functions, vGPU types and mdevs, and the processes that hold it.\n"
       "DEVICE is a PCI address (0000:0b:00.0, or 0b:00.0 for domain 0000) or a\n"
       "device object path (/org/gpuvirt/devices/pci_0000_0b_00_0).\n") },
  { "monitor", 0, 0, OPT_JSON, verb_monitor, "",
    N_("Print changes to devices as they happen"),
    N_("Prints one line per change gpuvirtd announces: changed properties, functions\n"
       "and mdevs that appear or go, and gpuvirtd starting or stopping. Each line\n"
       "has a timestamp and the object's address. With --json, one JSON object per\n"
       "line. Runs until interrupted.\n") },
  { "bind", 0, G_MAXINT, OPT_PASSTHROUGH | OPT_ALL | OPT_ALLOW_FOREIGN | OPT_PERSIST, verb_bind, N_("DEVICE..."),
    N_("Move GPUs with their functions to vfio-pci, for VMs"),
    N_("Moves each GPU to vfio-pci, so that a virtual machine can use it, together\n"
       "with its companion functions (audio, USB, UCSI) and the rest of its IOMMU\n"
       "group, as one transaction: when a step fails, everything is put back. The\n"
       "drivers they had are recorded, for 'return'. DEVICE may name a GPU or one\n"
       "of its functions. With --all (and no DEVICE), every NVIDIA GPU.\n"
       "gpuvirtd refuses a GPU that programs on the host use (Xorg, a compositor,\n"
       "nvidia-persistenced) or that shows the console, unless --force is given,\n"
       "and a group shared with other devices unless --allow-foreign is given.\n"
       "Each function's state is printed as it changes (on a terminal, or with\n"
       "--verbose), then one line per function: address, state, what was done.\n"
       "With --persist, gpuvirtd also records each GPU named as passed through in\n"
       "its configuration, so that it is bound again at boot.\n") },
  { "return", 1, G_MAXINT, OPT_PASSTHROUGH | OPT_DRIVER | OPT_PERSIST, verb_return, N_("DEVICE..."),
    N_("Give GPUs back to the host's drivers, e.g. for display"),
    N_("Gives each GPU, its companion functions and the rest of its IOMMU group back\n"
       "to the drivers they had before gpuvirt took them (nvidia, snd_hda_intel,\n"
       "xhci_hcd, ...), clearing driver_override, as one transaction. With --driver,\n"
       "the GPU goes to that driver instead; its companions go back to their own.\n"
       "gpuvirtd refuses while a virtual machine has the device open, unless\n"
       "--force is given. 'give-back' and 'reclaim' are other names of 'return'.\n"
       "With --persist, gpuvirtd also removes their passthrough from its\n"
       "configuration.\n") },
  { "unbind", 1, G_MAXINT, OPT_PASSTHROUGH | OPT_YES, verb_unbind, N_("DEVICE..."),
    N_("Leave functions without any driver (for experts)"),
    N_("Unbinds each named function from its driver and leaves it without one;\n"
       "nothing on the host can use it until it is bound again ('return' or\n"
       "'bind'). Asks for confirmation first; without a terminal to ask on, it\n"
       "needs --yes.\n") },
  { "sriov", 1, 2, OPT_JSON | OPT_TIMEOUT | OPT_PERSIST | OPT_VERBOSE, verb_sriov, N_("DEVICE [N|off]"),
    N_("Show or set the SR-IOV virtual functions of a GPU"),
    N_("Without N, prints how many VFs the physical function supports\n"
       "(TotalVfs), how many are enabled (NumVfs) and their addresses. With N,\n"
       "asks gpuvirtd to enable N VFs ('off' or 0 disables them), then prints\n"
       "the same. Nothing is written when N VFs are already enabled; going from\n"
       "N to M is done through 0, as the kernel requires; gpuvirtd refuses while\n"
       "a VF that would go is in use (a VM has it open, it carries a vGPU type\n"
       "or hosts an mdev), and on a function without SR-IOV. With --persist (and\n"
       "N), gpuvirtd also records N in its configuration ('off' removes it).\n"
       "The kernel adds VFs one by one; on a terminal (or with --verbose) the\n"
       "count is shown as they come. A write that takes longer than gpuvirtd\n"
       "allows (--timeout, plus a tenth of it per VF) is reported as pending:\n"
       "gpuvirtctl then waits for the kernel and prints how it ended.\n") },
  { "types", 1, 1, OPT_JSON, verb_types, N_("DEVICE"),
    N_("Show the vGPU types a GPU or VF offers now"),
    N_("Prints the vGPU types that can be created on DEVICE now, one per row: the\n"
       "type's id and name (either names it for 'vgpu create'), its frame buffer,\n"
       "how many instances are still available, the most one GPU can hold, its\n"
       "series and the driver's description. On a VF of a vendor-VFIO GPU the list\n"
       "holds only the types that still fit, and is empty while the VF carries a\n"
       "type. Also shows the vGPU framework, on a VF the type it carries, and on a\n"
       "GPU with VFs how many of them are free.\n"
       "DEVICE is a GPU or one of its VFs, as a PCI address or object path.\n") },
  { "vgpu list", 0, 0, OPT_JSON, verb_vgpu_list, "",
    N_("List every vGPU of the host"),
    N_("Lists every vGPU of the host: the mdevs, and the VFs of vendor-VFIO GPUs\n"
       "that carry a type. Each row names the GPU, the vGPU (an mdev's UUID or the\n"
       "VF's address), its type id and name, the VFIO node a virtual machine opens\n"
       "and the processes that have it open. 'vgpu' alone is 'vgpu list'.\n") },
  { "vgpu create", 2, 2, OPT_JSON | OPT_UUID | OPT_NUM_VFS | OPT_TIMEOUT | OPT_PERSIST, verb_vgpu_create,
    N_("DEVICE TYPE"),
    N_("Create one vGPU of a type on a GPU"),
    N_("Asks gpuvirtd for one vGPU of TYPE on DEVICE, made the way the GPU works:\n"
       "an mdev on a GPU with mdev types of its own (e.g. T4); on an SR-IOV GPU\n"
       "the VFs are enabled first if none are (--num-vfs, default all of them),\n"
       "then the first free VF that can take TYPE gets an mdev (e.g. A40) or the\n"
       "type itself (vendor-specific VFIO, Ada and newer). Named on a VF, only\n"
       "that VF is used. TYPE is a type id (nvidia-558, 1155), a name (NVIDIA\n"
       "L40S-24Q) or a short name (L40S-24Q); 'gpuvirtctl types DEVICE' lists\n"
       "them. It is one transaction: when a step fails, nothing stays changed.\n"
       "Prints the vGPU's object and what a virtual machine manager needs: the\n"
       "PCI address, the VFIO nodes, the mdev UUID and a libvirt <hostdev>\n"
       "element (for managed='no').\n"
       "With --persist, gpuvirtd also records the vGPU in its configuration (the\n"
       "VF's type, or the mdev with its UUID, and the VFs it enabled).\n") },
  { "vgpu remove", 1, 1, OPT_JSON | OPT_DISABLE_VFS | OPT_TIMEOUT | OPT_PERSIST, verb_vgpu_remove, N_("VGPU"),
    N_("Remove a vGPU: an mdev, or the type of a VF"),
    N_("Removes one vGPU: an mdev, named by its UUID or object path, or the type\n"
       "of a vendor-VFIO VF, named by the VF's address or object path (a VF that\n"
       "hosts an mdev may also be named by its address). The call goes to the GPU\n"
       "the vGPU belongs to. gpuvirtd refuses while a virtual machine has the\n"
       "vGPU open. With --disable-vfs, removing the GPU's last vGPU also disables\n"
       "its VFs. With --persist, gpuvirtd also removes the vGPU (and the VFs it\n"
       "disabled) from its configuration.\n") },
  { "doctor", 0, 0, OPT_JSON, verb_doctor, "",
    N_("Check what blocks passthrough and vGPU, and how to fix it"),
    N_("Asks gpuvirtd to check, read-only, what stands in the way of passthrough and\n"
       "vGPU on this host: the IOMMU and the kernel command line (with the exact GRUB\n"
       "line to add), interrupt remapping, vfio-pci, and per GPU its IOMMU group,\n"
       "the processes holding it, the boot console, its vGPU framework and NVIDIA's\n"
       "vGPU manager, and SR-IOV it advertises but does not use. Prints one line per\n"
       "check, grouped by host and device, each problem with its fix below it.\n"
       "Exits with status 6 when a check found an error, else 0.\n") },
  { "config show", 0, 0, OPT_JSON, verb_config_show, "",
    N_("Show gpuvirtd's configuration and its problems"),
    N_("Prints the configuration files gpuvirtd reads (the main file, then the\n"
       "drop-ins of conf.d/ in the order they apply), the problems it found in\n"
       "them (file, line, key and what is wrong; a configuration with problems is\n"
       "not used), then the main file's text as stored, comments included.\n"
       "'config' alone is 'config show'.\n") },
  { "config check", 0, 1, OPT_JSON, verb_config_check, N_("[FILE|-]"),
    N_("Check a configuration file for problems"),
    N_("Asks gpuvirtd to check FILE (or the text on stdin with '-'; by default the\n"
       "main file as stored) as if it were the main file, the drop-ins applying\n"
       "after it, without saving or applying anything. Devices it names that the\n"
       "host lacks, or finds with another vendor:device, are reported too. Prints\n"
       "one line per problem, FILE:LINE: KEY: what is wrong, and exits with status\n"
       "1 when there is one, else 0.\n") },
  { "config save", 1, 1, OPT_APPLY, verb_config_save, N_("FILE|-"),
    N_("Replace the main configuration file"),
    N_("Sends FILE (or the text on stdin with '-') to gpuvirtd, which checks it as\n"
       "'config check' does and, when it has no problems, replaces the main\n"
       "configuration file with it atomically and reads the configuration again.\n"
       "A text with problems is refused and nothing is written. Devices change\n"
       "only with --apply, which then brings the host to the new configuration as\n"
       "'apply' does and prints the plan. Needs authorization (polkit action\n"
       "org.gpuvirt.modify-config).\n") },
  { "config reload", 0, 0, 0, verb_config_reload, "",
    N_("Make gpuvirtd read its configuration files again"),
    N_("Asks gpuvirtd to read its configuration files again, as SIGHUP does. Files\n"
       "with problems are not used (the previous configuration stays) and the\n"
       "problems are printed. Nothing is applied to the devices.\n") },
  { "config import", 1, 2, OPT_APPLY | OPT_ROOT | OPT_CONFIG, verb_config_import, N_("FORMAT [FILE]"),
    N_("Turn another tool's settings into gpuvirt's"),
    N_("Reads the settings another tool keeps and prints the same as gpuvirt's\n"
       "configuration. FORMAT is driverctl, mdevctl or mig-parted. driverctl: its\n"
       "overrides in /etc/driverctl.d/pci-ADDRESS (a function pinned to vfio-pci\n"
       "becomes Passthrough=true on its GPU). mdevctl: its definitions in\n"
       "/etc/mdevctl.d/PARENT/UUID (each becomes an [Mdev UUID] group with its\n"
       "parent and type). --root reads their files below another directory (a\n"
       "copy of another host's /etc). mig-parted: FILE, a configuration of\n"
       "NVIDIA's mig-parted (YAML: mig-configs, each a list of entries with\n"
       "devices, device-filter, mig-enabled and mig-devices), of which --config\n"
       "NAME is taken: per GPU, MigMode= and MigProfiles=; device indices are\n"
       "NVML's, the NVIDIA GPUs by PCI address; bad YAML is reported with its\n"
       "line and column. Every entry that cannot be mapped (another driver than\n"
       "vfio-pci, an mdev started by hand, mdev attributes, a device this host\n"
       "lacks, a GPU without MIG, a profile the GPU lacks, a compute-instance\n"
       "profile) is named on stderr with the reason, and the exit status is then\n"
       "1. With --apply (and nothing unmapped), the result is merged into\n"
       "gpuvirtd's main configuration file, which is saved and applied as\n"
       "'config save --apply' does.\n") },
  { "export", 2, 2, OPT_JSON | OPT_GUEST_BUS, verb_export, N_("libvirt DEVICE|VGPU"),
    N_("Print a device's libvirt XML for a VM"),
    N_("Prints what a libvirt domain needs to use DEVICE or VGPU, for 'virsh edit'\n"
       "or virt-manager's XML view: the <hostdev> elements for <devices>, and\n"
       "gpuvirt's element for <metadata>, which lets gpuvirt's libvirt hook bind\n"
       "the devices when the domain starts and give them back when it stops.\n"
       "DEVICE, a GPU or one of its functions, gives one <hostdev managed='no'>\n"
       "per function a bind takes (the GPU with its companions); several share\n"
       "one guest slot on guest bus --guest-bus, the GPU as function 0 with\n"
       "multifunction='on', as on the host. VGPU, an mdev's UUID or a VF carrying\n"
       "a vGPU type, gives its <hostdev> and, in the metadata, its type and parent\n"
       "so that the hook can make it when it is missing.\n") },
  { "apply", 0, 0, OPT_JSON | OPT_DRY_RUN | OPT_TIMEOUT, verb_apply, "",
    N_("Bring the host to the configured state"),
    N_("Asks gpuvirtd to bring the host to its configuration, in order: passthrough\n"
       "binds, then SR-IOV VFs, then vGPU types and mdevs, as the boot plan does.\n"
       "Steps already done are skipped, so applying twice changes nothing the\n"
       "second time; a device with another vendor:device than configured is never\n"
       "touched. Prints one row per step: phase, device, action, status (done,\n"
       "skipped, failed) and why. With --dry-run only shows what would change\n"
       "(pending steps). Exits with status 1 when a step failed, else 0.\n"
       "Needs authorization (polkit action org.gpuvirt.modify-config) unless\n"
       "--dry-run is given.\n") },
  { "mig", 1, 2, OPT_JSON | OPT_TIMEOUT | OPT_PERSIST | OPT_PENDING, verb_mig, N_("DEVICE [on|off]"),
    N_("Show a GPU's MIG, or turn MIG mode on or off"),
    N_("Without on or off, shows DEVICE's MIG (Multi-Instance GPU): its mode now\n"
       "and after the next reset, its GPU instance profiles (name, NVML id,\n"
       "compute slices, memory, how many more fit, placements) and its GPU\n"
       "instances. With on or off, asks gpuvirtd to change the mode. The mode\n"
       "takes effect at a reset of the GPU, which gpuvirtd makes through the\n"
       "function's reset when nothing holds the GPU; it refuses while programs\n"
       "have the GPU open or nvidia_drm is loaded, naming them. With --pending\n"
       "the GPU is not reset: the mode waits for the next reset or boot. MIG\n"
       "mode off is refused while the GPU has VFs. With --persist, gpuvirtd also\n"
       "records MigMode in its configuration. Needs NVIDIA's library\n"
       "libnvidia-ml.so.1 on the host.\n") },
  { "mig list", 0, 0, OPT_JSON, verb_mig_list, "",
    N_("List the GPUs with MIG, their mode and instances"),
    N_("Lists every GPU with MIG: address, name, MIG mode (and the mode after the\n"
       "next reset when it differs) and its GPU instances by profile. Without\n"
       "NVIDIA's management library, says why MIG is unavailable. 'mig' alone is\n"
       "'mig list'.\n") },
  { "mig create", 2, 2, OPT_JSON | OPT_TIMEOUT | OPT_PERSIST | OPT_COUNT | OPT_NO_COMPUTE, verb_mig_create,
    N_("DEVICE PROFILE"),
    N_("Make GPU instances of a profile on a GPU"),
    N_("Asks gpuvirtd for --count GPU instances (default 1) of PROFILE on DEVICE,\n"
       "placed around the existing ones; each gets one compute instance over all\n"
       "of its slices, unless --no-compute-instances is given (a MIG-backed vGPU\n"
       "makes its own). PROFILE is a name such as 1g.10gb, 3g.40gb or 1g.10gb+me\n"
       "('gpuvirtctl mig DEVICE' lists them). It is one transaction: when a step\n"
       "fails, the instances made are destroyed again. MIG mode must be on. With\n"
       "--persist, gpuvirtd also records the GPU's instances in its\n"
       "configuration (MigProfiles).\n") },
  { "mig destroy", 1, G_MAXINT, OPT_JSON | OPT_TIMEOUT | OPT_PERSIST | OPT_ALL, verb_mig_destroy,
    N_("DEVICE [INSTANCE...|--all]"),
    N_("Destroy GPU instances of a GPU"),
    N_("Asks gpuvirtd to destroy the GPU instances INSTANCE of DEVICE (their ids,\n"
       "as 'gpuvirtctl mig DEVICE' shows them), or with --all every one, their\n"
       "compute instances first. Refused while vGPUs run on the GPU. One\n"
       "transaction: on failure the instances destroyed are made again where\n"
       "they were. With --persist, gpuvirtd also records the instances left in\n"
       "its configuration.\n") },
};

/* Verbs of two words ("vgpu create"): the first word alone runs FALLBACK;
 * with a second word that is no verb of the group, the verb ARG_VERB (if
 * any) runs with it as its argument ("mig 0000:41:00.0 on"). */
static const struct
{
  const char *group, *fallback, *arg_verb;
} verb_groups[] = {
  { "vgpu", "list", NULL },
  { "config", "show", NULL },
  { "mig", "list", "mig" },
};

/* Other names of verbs. */
static const struct
{
  const char *alias, *name;
} verb_aliases[] = {
  { "give-back", "return" },
  { "reclaim", "return" },
};

/* gettext("") would answer the catalog's header */
static const char *
tr (const char *s)
{
  return s && *s ? _(s) : "";
}

static int
find_group (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (verb_groups); i++)
    if (g_str_equal (verb_groups[i].group, name))
      return (int) i;
  return -1;
}

static const Verb *
find_verb (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (verb_aliases); i++)
    if (g_str_equal (verb_aliases[i].alias, name))
      name = verb_aliases[i].name;
  for (size_t i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

/* VERB NULL: the overall help, every option. */
static void
print_option_help (const Verb *verb)
{
  guint options = verb ? verb->options : G_MAXUINT;

  printf ("%s\n", _("Options:"));
  printf ("  %-20s %s\n", "-h --help", _("Show this help"));
  for (size_t i = 0; i < G_N_ELEMENTS (option_help); i++)
    {
      const char *text = option_help[i].help;

      if (!(options & option_help[i].bit))
        continue;
      if (option_help[i].bit == OPT_ALL)
        text = !verb ? N_("list: all PCI functions; bind: all GPUs; mig destroy: all")
               : g_str_equal (verb->name, "bind") ? N_("Every NVIDIA GPU of the host")
               : g_str_equal (verb->name, "mig destroy") ? N_("Every GPU instance of the GPU")
               : N_("List every PCI function, not only the managed ones");
      {
        const char *arg = option_help[i].arg;
        g_autofree char *head = g_strconcat (option_help[i].head, arg ? _(arg) : "",
                                             arg && g_str_has_suffix (option_help[i].head, "[=") ? "]" : "", NULL);
        /* by terminal columns: the placeholder is translated */
        printf ("%s%*s %s\n", head, ctl_text_pad (head, 22), "", _(text));
      }
    }
  printf ("%-22s %s\n", "     --no-ask-password", _("Never ask for authentication"));
}

static void
print_exit_help (void)
{
  printf ("\n%s\n", _("Exit status:"));
  printf ("  0 %s\n  1 %s\n  2 %s\n  3 %s\n  4 %s\n  5 %s\n  6 %s\n  7 %s\n",
          _("success"), _("failure"), _("usage error (bad command, option or DEVICE)"),
          _("no such device, vGPU or vGPU type"), _("access denied"),
          _("no system bus, or gpuvirtd not running"),
          _("refused: the device's state does not allow it"),
          _("pending: the kernel is still carrying the change out"));
}

static void
help (void)
{
  printf (_("Usage: %s [OPTIONS...] COMMAND ...\n\n"), g_get_prgname ());
  printf ("%s\n\n", _("Moves GPUs between the host and virtual machines through gpuvirtd."));
  printf ("%s\n", _("Commands:"));
  for (size_t i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      g_autofree char *head = g_strjoin (" ", verbs[i].name, tr (verbs[i].synopsis), NULL);
      g_strstrip (head);
      /* by terminal columns: the synopsis is translated */
      printf ("  %s%*s %s\n", head, ctl_text_pad (head, 19), "", _(verbs[i].summary));
    }
  printf ("\n");
  print_option_help (NULL);
  printf ("     --version         %s\n", _("Show the version"));
  printf ("\n%s\n", _("'gpuvirtctl COMMAND --help' shows a command's help."));
  print_exit_help ();
}

/* "vgpu --help": the group's commands. */
static void
group_help (const char *group)
{
  size_t n = strlen (group);

  printf (_("Usage: %s [OPTIONS...] %s COMMAND ...\n\n"), g_get_prgname (), group);
  printf ("%s\n", _("Commands:"));
  for (size_t i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_has_prefix (verbs[i].name, group) && (verbs[i].name[n] == ' ' || verbs[i].name[n] == '\0'))
      {
        g_autofree char *head = g_strjoin (" ", verbs[i].name, tr (verbs[i].synopsis), NULL);
        g_strstrip (head);
        printf ("  %s%*s %s\n", head, ctl_text_pad (head, 24), "", _(verbs[i].summary));
      }
  printf ("\n");
  printf (_("'%s %s COMMAND --help' shows a command's help.\n"), g_get_prgname (), group);
  print_exit_help ();
}

static void
verb_help (const Verb *verb)
{
  g_autofree char *head = g_strjoin (" ", verb->name, tr (verb->synopsis), NULL);

  printf (_("Usage: %s [OPTIONS...] %s\n\n"), g_get_prgname (), g_strstrip (head));
  printf ("%s\n", tr (verb->details));
  print_option_help (verb);
  print_exit_help ();
}

int
ctl_append_persist (sd_bus_message *m)
{
  if (!ctl_args.persist)
    return 0;
  return sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_PERSIST, "b", 1);
}

int
ctl_open_change_options (sd_bus_message *m)
{
  int r = sd_bus_message_open_container (m, 'a', "{sv}");

  if (r >= 0 && ctl_args.timeout_ms > 0)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_TIMEOUT_MS, "u", ctl_args.timeout_ms);
  if (r >= 0)
    r = ctl_append_persist (m);
  return r;
}

int
ctl_usage_error (const char *message)
{
  fprintf (stderr, "%s\n", message);
  fprintf (stderr, _("See '%s --help'.\n"), g_get_prgname ());
  return GV_EXIT_USAGE;
}

/* Seconds, with a fraction if wanted, to milliseconds for timeout-ms. */
static int
parse_timeout (const char *text, guint32 *ret_ms)
{
  char *end = NULL;
  double seconds = g_ascii_strtod (text, &end);

  if (!*text || !end || *end || !(seconds > 0) || seconds * 1000.0 > (double) G_MAXUINT32)
    return -1;
  *ret_ms = MAX (1u, (guint32) (seconds * 1000.0 + 0.5));
  return 0;
}

static int
parse_json (const char *mode)
{
  if (!mode || g_str_equal (mode, "pretty"))
    ctl_args.json = CTL_JSON_PRETTY;
  else if (g_str_equal (mode, "short"))
    ctl_args.json = CTL_JSON_SHORT;
  else if (g_str_equal (mode, "off"))
    ctl_args.json = CTL_JSON_OFF;
  else
    return -1;
  return 0;
}

int
main (int argc, char **argv)
{
  enum
  {
    ARG_VERSION = 0x100,
    ARG_JSON,
    ARG_NO_ASK_PASSWORD,
    ARG_ALLOW_FOREIGN,
    ARG_KEEP_GOING,
    ARG_TIMEOUT,
    ARG_DRIVER,
    ARG_VERBOSE,
    ARG_UUID,
    ARG_NUM_VFS,
    ARG_DISABLE_VFS,
    ARG_PERSIST,
    ARG_APPLY,
    ARG_DRY_RUN,
    ARG_COUNT,
    ARG_PENDING,
    ARG_NO_COMPUTE,
    ARG_CONFIG,
    ARG_GUEST_BUS,
    ARG_ROOT,
  };
  static const struct option options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, ARG_VERSION },
    { "json", optional_argument, NULL, ARG_JSON },
    { "all", no_argument, NULL, 'a' },
    { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
    { "force", no_argument, NULL, 'f' },
    { "allow-foreign", no_argument, NULL, ARG_ALLOW_FOREIGN },
    { "keep-going", no_argument, NULL, ARG_KEEP_GOING },
    { "timeout", required_argument, NULL, ARG_TIMEOUT },
    { "driver", required_argument, NULL, ARG_DRIVER },
    { "yes", no_argument, NULL, 'y' },
    { "verbose", no_argument, NULL, ARG_VERBOSE },
    { "uuid", required_argument, NULL, ARG_UUID },
    { "num-vfs", required_argument, NULL, ARG_NUM_VFS },
    { "disable-vfs", no_argument, NULL, ARG_DISABLE_VFS },
    { "persist", no_argument, NULL, ARG_PERSIST },
    { "apply", no_argument, NULL, ARG_APPLY },
    { "dry-run", no_argument, NULL, ARG_DRY_RUN },
    { "count", required_argument, NULL, ARG_COUNT },
    { "pending", no_argument, NULL, ARG_PENDING },
    { "no-compute-instances", no_argument, NULL, ARG_NO_COMPUTE },
    { "config", required_argument, NULL, ARG_CONFIG },
    { "guest-bus", required_argument, NULL, ARG_GUEST_BUS },
    { "root", required_argument, NULL, ARG_ROOT },
    {},
  };
  g_autoptr (sd_bus) bus = NULL;
  gboolean want_help = FALSE;
  guint given = 0;
  const Verb *verb = NULL;
  int words = 1; /* the verb's words on the command line: 2 for "vgpu create" */
  const char *localedir;
  int c, r;

  setlocale (LC_ALL, "");
  /* GPUVIRTCTL_LOCALEDIR is for tests only: the po suite runs the built
   * client with the catalogs of the build tree (build/po). Users never
   * need it; secure_getenv() ignores it in a setuid or setcap process. */
  localedir = secure_getenv ("GPUVIRTCTL_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("gpuvirtctl");
  /* failed calls return the errno of gpuvirtd's error names, not EIO */
  sd_bus_error_add_map (gv_error_bus_map ());

  /* a password prompt needs someone at a terminal */
  ctl_args.ask_password = isatty (STDIN_FILENO);

  while ((c = getopt_long (argc, argv, "hafy", options, NULL)) >= 0)
    switch (c)
      {
      case 'h':
        want_help = TRUE;
        break;
      case ARG_VERSION:
        printf ("gpuvirtctl %s\n", GPUVIRT_VERSION);
        return GV_EXIT_OK;
      case ARG_JSON:
        if (parse_json (optarg) < 0)
          {
            g_autofree char *m = g_strdup_printf (_("Unknown JSON mode '%s': use pretty, short or off."), optarg);
            return ctl_usage_error (m);
          }
        given |= OPT_JSON;
        break;
      case 'a':
        ctl_args.all = TRUE;
        given |= OPT_ALL;
        break;
      case ARG_NO_ASK_PASSWORD:
        ctl_args.ask_password = FALSE;
        break;
      case 'f':
        ctl_args.force = TRUE;
        given |= OPT_FORCE;
        break;
      case ARG_ALLOW_FOREIGN:
        ctl_args.allow_foreign = TRUE;
        given |= OPT_ALLOW_FOREIGN;
        break;
      case ARG_KEEP_GOING:
        ctl_args.keep_going = TRUE;
        given |= OPT_KEEP_GOING;
        break;
      case ARG_TIMEOUT:
        if (parse_timeout (optarg, &ctl_args.timeout_ms) < 0)
          {
            g_autofree char *m = g_strdup_printf (_("Invalid timeout '%s': give a number of seconds above 0."), optarg);
            return ctl_usage_error (m);
          }
        given |= OPT_TIMEOUT;
        break;
      case ARG_DRIVER:
        ctl_args.driver = optarg;
        given |= OPT_DRIVER;
        break;
      case 'y':
        ctl_args.yes = TRUE;
        given |= OPT_YES;
        break;
      case ARG_VERBOSE:
        ctl_args.verbose = TRUE;
        given |= OPT_VERBOSE;
        break;
      case ARG_UUID:
        /* checked here, so that a typo never reaches gpuvirtd */
        if (!g_uuid_string_is_valid (optarg))
          {
            g_autofree char *m = g_strdup_printf (_("Invalid UUID '%s': give one like 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f."), optarg);
            return ctl_usage_error (m);
          }
        g_free (ctl_args.uuid);
        ctl_args.uuid = g_ascii_strdown (optarg, -1);
        given |= OPT_UUID;
        break;
      case ARG_NUM_VFS:
        {
          guint64 n;

          if (!g_ascii_string_to_unsigned (optarg, 10, 1, G_MAXUINT16, &n, NULL))
            {
              g_autofree char *m = g_strdup_printf (_("Invalid number of VFs '%s': give 1 to 65535."), optarg);
              return ctl_usage_error (m);
            }
          ctl_args.num_vfs = (guint32) n;
          given |= OPT_NUM_VFS;
        }
        break;
      case ARG_DISABLE_VFS:
        ctl_args.disable_vfs = TRUE;
        given |= OPT_DISABLE_VFS;
        break;
      case ARG_PERSIST:
        ctl_args.persist = TRUE;
        given |= OPT_PERSIST;
        break;
      case ARG_APPLY:
        ctl_args.apply = TRUE;
        given |= OPT_APPLY;
        break;
      case ARG_DRY_RUN:
        ctl_args.dry_run = TRUE;
        given |= OPT_DRY_RUN;
        break;
      case ARG_COUNT:
        {
          guint64 n;

          if (!g_ascii_string_to_unsigned (optarg, 10, 1, 64, &n, NULL))
            {
              g_autofree char *m = g_strdup_printf (_("Invalid count '%s': give 1 to 64."), optarg);
              return ctl_usage_error (m);
            }
          ctl_args.count = (guint32) n;
          given |= OPT_COUNT;
        }
        break;
      case ARG_PENDING:
        ctl_args.pending = TRUE;
        given |= OPT_PENDING;
        break;
      case ARG_NO_COMPUTE:
        ctl_args.no_compute = TRUE;
        given |= OPT_NO_COMPUTE;
        break;
      case ARG_CONFIG:
        ctl_args.config_name = optarg;
        given |= OPT_CONFIG;
        break;
      case ARG_GUEST_BUS:
        {
          guint64 n;
          const char *digits = g_str_has_prefix (optarg, "0x") ? optarg + 2 : optarg;

          /* bus 0 is the root complex: no multifunction device of ours there */
          if (!g_ascii_string_to_unsigned (digits, digits == optarg ? 10 : 16, 1, 0xff, &n, NULL))
            {
              g_autofree char *m = g_strdup_printf (_("Invalid guest bus '%s': give 1 to 255 (or 0x01 to 0xff)."), optarg);
              return ctl_usage_error (m);
            }
          ctl_args.guest_bus = (guint) n;
          given |= OPT_GUEST_BUS;
        }
        break;
      case ARG_ROOT:
        ctl_args.root = optarg;
        given |= OPT_ROOT;
        break;
      default:
        /* getopt has said what was wrong */
        fprintf (stderr, _("See '%s --help'.\n"), g_get_prgname ());
        return GV_EXIT_USAGE;
      }

  if (optind >= argc)
    {
      if (want_help)
        {
          help ();
          return GV_EXIT_OK;
        }
      verb = find_verb ("status");
    }
  else if (find_group (argv[optind]) >= 0)
    {
      int g = find_group (argv[optind]);
      g_autofree char *name = NULL;

      if (optind + 1 < argc)
        {
          name = g_strjoin (" ", argv[optind], argv[optind + 1], NULL);
          verb = find_verb (name);
          words = 2;
          if (!verb && verb_groups[g].arg_verb)
            {
              verb = find_verb (verb_groups[g].arg_verb);
              words = 1;
            }
        }
      else if (want_help)
        {
          group_help (verb_groups[g].group);
          return GV_EXIT_OK;
        }
      else
        {
          name = g_strjoin (" ", verb_groups[g].group, verb_groups[g].fallback, NULL);
          verb = find_verb (name);
        }
      if (!verb)
        {
          g_autofree char *m = g_strdup_printf (_("Unknown command '%s'."), name);
          return ctl_usage_error (m);
        }
    }
  else if (!(verb = find_verb (argv[optind])))
    {
      g_autofree char *m = g_strdup_printf (_("Unknown command '%s'."), argv[optind]);
      return ctl_usage_error (m);
    }
  if (want_help)
    {
      verb_help (verb);
      return GV_EXIT_OK;
    }

  if (given & ~verb->options)
    {
      const char *option = NULL;
      g_autofree char *m = NULL;

      for (size_t i = 0; i < G_N_ELEMENTS (option_help) && !option; i++)
        if (given & ~verb->options & option_help[i].bit)
          option = option_help[i].name;
      m = g_strdup_printf (_("Option %s does not apply to '%s'."), option, verb->name);
      return ctl_usage_error (m);
    }
  {
    int n_args = optind < argc ? argc - optind - words : 0;

    if (n_args < verb->min_args || n_args > verb->max_args)
      {
        g_autofree char *m = n_args < verb->min_args
          ? g_strdup_printf (_("'%s' needs %s."), verb->name, tr (verb->synopsis))
          : g_strdup_printf (_("Too many arguments for '%s'."), verb->name);
        return ctl_usage_error (m);
      }
  }

  r = sd_bus_open_system (&bus);
  if (r < 0)
    return ctl_fail_connect (r);
  (void) sd_bus_set_allow_interactive_authorization (bus, ctl_args.ask_password);

  if (optind >= argc)
    {
      char *status_argv[] = { (char *) "status", NULL };
      return verb->run (bus, 1, status_argv);
    }
  /* argv[0] is the verb's last word */
  return verb->run (bus, argc - optind - (words - 1), argv + optind + (words - 1));
}
