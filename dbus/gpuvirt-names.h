/* Every name of gpuvirt's D-Bus API in one place, shared by the daemon,
 * the client and the tests. The interface XML files beside this header
 * are the contract; these names must match them. Never rename after a
 * release: the API version is the Version/ApiVersion properties. */
#pragma once

#define GPUVIRT_API_VERSION 1u

#define GPUVIRT_BUS_NAME "org.gpuvirt"
#define GPUVIRT_MANAGER_PATH "/org/gpuvirt"
#define GPUVIRT_DEVICES_PATH "/org/gpuvirt/devices"   /* + "/pci_0000_01_00_0" */
#define GPUVIRT_MDEVS_PATH "/org/gpuvirt/mdevs"       /* + "/<uuid with '-' as '_'>" */

#define GPUVIRT_MANAGER_IFACE "org.gpuvirt.Manager"
#define GPUVIRT_DEVICE_IFACE "org.gpuvirt.Device"
#define GPUVIRT_SRIOV_IFACE "org.gpuvirt.Sriov"
#define GPUVIRT_VGPU_IFACE "org.gpuvirt.Vgpu"
#define GPUVIRT_MDEV_IFACE "org.gpuvirt.Mdev"

/* polkit actions */
#define GPUVIRT_ACTION_ASSIGN "org.gpuvirt.assign-device"
#define GPUVIRT_ACTION_ASSIGN_FORCE "org.gpuvirt.assign-device-force"
#define GPUVIRT_ACTION_SRIOV "org.gpuvirt.configure-sriov"
#define GPUVIRT_ACTION_VGPU "org.gpuvirt.configure-vgpu"
#define GPUVIRT_ACTION_CONFIG "org.gpuvirt.modify-config"

/* Errors. Standard ones are used where they fit:
 * org.freedesktop.DBus.Error.InvalidArgs for malformed input,
 * org.freedesktop.DBus.Error.AccessDenied when polkit says no,
 * org.freedesktop.DBus.Error.InteractiveAuthorizationRequired. */
#define GPUVIRT_ERROR_NO_SUCH_DEVICE "org.gpuvirt.Error.NoSuchDevice"       /* well-formed, but not on this host */
#define GPUVIRT_ERROR_NOT_MANAGED "org.gpuvirt.Error.NotManaged"            /* not a GPU, companion or allowed class */
#define GPUVIRT_ERROR_BUSY "org.gpuvirt.Error.Busy"                         /* another operation on it is running */
#define GPUVIRT_ERROR_HELD "org.gpuvirt.Error.HeldByProcesses"              /* processes have its nodes open */
#define GPUVIRT_ERROR_BOOT_VGA "org.gpuvirt.Error.BootVga"                  /* it shows the console */
#define GPUVIRT_ERROR_GROUP_NOT_VIABLE "org.gpuvirt.Error.GroupNotViable"   /* foreign devices share its IOMMU group */
#define GPUVIRT_ERROR_NO_IOMMU "org.gpuvirt.Error.NoIommu"                  /* no IOMMU group: VFIO impossible */
#define GPUVIRT_ERROR_KERNEL "org.gpuvirt.Error.KernelError"                /* a sysfs write failed; message has errno and state */
#define GPUVIRT_ERROR_STUCK "org.gpuvirt.Error.Stuck"                       /* a write did not return in time */
#define GPUVIRT_ERROR_PENDING "org.gpuvirt.Error.Pending"                   /* a long write still runs; its outcome is announced */
#define GPUVIRT_ERROR_NOT_SUPPORTED "org.gpuvirt.Error.NotSupported"        /* e.g. SR-IOV on a GPU without it */
#define GPUVIRT_ERROR_NO_SUCH_DRIVER "org.gpuvirt.Error.NoSuchDriver"
#define GPUVIRT_ERROR_NO_SUCH_TYPE "org.gpuvirt.Error.NoSuchType"
#define GPUVIRT_ERROR_NO_CAPACITY "org.gpuvirt.Error.NoCapacity"
#define GPUVIRT_ERROR_IN_USE "org.gpuvirt.Error.InUse"                      /* VFs, vGPUs or VFIO nodes in use */
#define GPUVIRT_ERROR_EXISTS "org.gpuvirt.Error.AlreadyExists"
#define GPUVIRT_ERROR_CONFIG "org.gpuvirt.Error.ConfigInvalid"

/* Device.State values */
#define GPUVIRT_STATE_HOST "host"           /* on a host driver */
#define GPUVIRT_STATE_UNBOUND "unbound"     /* no driver */
#define GPUVIRT_STATE_RELEASING "releasing" /* being taken from its host driver */
#define GPUVIRT_STATE_VFIO "vfio"           /* on vfio-pci (or another VFIO driver) */
#define GPUVIRT_STATE_RETURNING "returning" /* being given back */
#define GPUVIRT_STATE_STUCK "stuck"         /* a write to the kernel never returned */

/* ---- Values and keys below were added with the interface XML files;
 * each is documented there. ---- */

/* Object path prefixes of the two per-object families, without the slash. */
#define GPUVIRT_DEVICE_PATH_PREFIX "pci_"   /* pci_DDDD_BB_SS_F */

/* Device.Kind values */
#define GPUVIRT_KIND_GPU "gpu"             /* display controller, class 03xx */
#define GPUVIRT_KIND_COMPANION "companion" /* audio, USB, UCSI... function of a GPU */
#define GPUVIRT_KIND_VF "vf"               /* SR-IOV virtual function */
#define GPUVIRT_KIND_BRIDGE "bridge"       /* PCI bridge (class 0604) */
#define GPUVIRT_KIND_OTHER "other"

/* Device.GroupVerdict values */
#define GPUVIRT_VERDICT_VIABLE "viable"    /* group holds only the GPU's own functions and bridges */
#define GPUVIRT_VERDICT_SHARED "shared"    /* foreign devices share the group */
#define GPUVIRT_VERDICT_NONE "none"        /* no IOMMU group */

/* Manager.IommuKind values */
#define GPUVIRT_IOMMU_INTEL "intel"
#define GPUVIRT_IOMMU_AMD "amd"
#define GPUVIRT_IOMMU_OTHER "other"        /* groups exist, but neither dmar nor ivhd */
#define GPUVIRT_IOMMU_NONE "none"

/* Vgpu.Framework and Device.VgpuFramework values */
#define GPUVIRT_FRAMEWORK_NONE "none"
#define GPUVIRT_FRAMEWORK_MDEV_PF "mdev-pf"         /* mdev types on the physical function (T4) */
#define GPUVIRT_FRAMEWORK_MDEV_VF "mdev-vf"         /* mdev types on each VF (A40, A100) */
#define GPUVIRT_FRAMEWORK_VENDOR_VFIO "vendor-vfio" /* nvidia/current_vgpu_type on each VF (Ada, Hopper+) */
#define GPUVIRT_FRAMEWORK_PENDING "pending"         /* SR-IOV GPU of the vGPU driver, VFs not enabled yet */

/* Manager.BootPlanState values */
#define GPUVIRT_PLAN_NONE "none"           /* nothing configured */
#define GPUVIRT_PLAN_PENDING "pending"     /* computed, not started */
#define GPUVIRT_PLAN_RUNNING "running"
#define GPUVIRT_PLAN_DONE "done"           /* every step done or skipped */
#define GPUVIRT_PLAN_FAILED "failed"       /* finished, at least one step failed */

/* Status of one plan step (Manager.BootPlan, ApplyConfig) */
#define GPUVIRT_STEP_PENDING "pending"
#define GPUVIRT_STEP_RUNNING "running"
#define GPUVIRT_STEP_DONE "done"
#define GPUVIRT_STEP_SKIPPED "skipped"     /* already in the configured state */
#define GPUVIRT_STEP_FAILED "failed"

/* Phase of one plan step, in the order they run */
#define GPUVIRT_PHASE_PASSTHROUGH "passthrough"
#define GPUVIRT_PHASE_SRIOV "sriov"
#define GPUVIRT_PHASE_VGPU "vgpu"
#define GPUVIRT_PHASE_MDEV "mdev"

/* Severity of a Doctor() finding */
#define GPUVIRT_SEVERITY_OK "ok"
#define GPUVIRT_SEVERITY_INFO "info"
#define GPUVIRT_SEVERITY_WARNING "warning"
#define GPUVIRT_SEVERITY_ERROR "error"

/* Keys of the a{sv} options arguments (types in the XML files) */
#define GPUVIRT_OPT_FORCE "force"                 /* b */
#define GPUVIRT_OPT_ALLOW_FOREIGN "allow-foreign" /* b */
#define GPUVIRT_OPT_ALL_NVIDIA "all-nvidia"       /* b */
#define GPUVIRT_OPT_TIMEOUT_MS "timeout-ms"       /* u */
#define GPUVIRT_OPT_KEEP_GOING "keep-going"       /* b */
#define GPUVIRT_OPT_PERSIST "persist"             /* b */
#define GPUVIRT_OPT_DRIVER "driver"               /* s */
#define GPUVIRT_OPT_DRY_RUN "dry-run"             /* b */
#define GPUVIRT_OPT_APPLY "apply"                 /* b */
#define GPUVIRT_OPT_UUID "uuid"                   /* s */
#define GPUVIRT_OPT_NUM_VFS "num-vfs"             /* u */
#define GPUVIRT_OPT_DISABLE_VFS "disable-vfs"     /* b */

/* Keys of CreateVgpu()'s info reply */
#define GPUVIRT_INFO_ADDRESS "address"                 /* s */
#define GPUVIRT_INFO_FRAMEWORK "framework"             /* s */
#define GPUVIRT_INFO_TYPE "type"                       /* s */
#define GPUVIRT_INFO_TYPE_NAME "type_name"             /* s */
#define GPUVIRT_INFO_VFIO_GROUP_NODE "vfio_group_node" /* s */
#define GPUVIRT_INFO_VFIO_DEVICE_NODE "vfio_device_node" /* s */
#define GPUVIRT_INFO_MDEV_UUID "mdev_uuid"             /* s */
#define GPUVIRT_INFO_HOSTDEV_XML "hostdev_xml"         /* s */

/* Keys of Vgpu.Types' details dictionary */
#define GPUVIRT_TYPE_DESCRIPTION "description"   /* s */
#define GPUVIRT_TYPE_DEVICE_API "device_api"     /* s */
#define GPUVIRT_TYPE_MAX_INSTANCE "max_instance" /* u */
#define GPUVIRT_TYPE_SERIES "series"             /* s: "A", "B", "C" or "Q" */
#define GPUVIRT_TYPE_SHORT_NAME "short_name"     /* s: "L40S-24Q" */

/* polkit details passed with every authorization check; values are strings.
 * Several devices (bulk calls) are separated by single spaces, in the same
 * order in every key. */
#define GPUVIRT_DETAIL_DEVICE "device"       /* BDF(s) the caller named */
#define GPUVIRT_DETAIL_VENDOR "vendor"       /* 4 lowercase hex digits each */
#define GPUVIRT_DETAIL_MODEL "model"         /* 4 lowercase hex digits each */
#define GPUVIRT_DETAIL_FUNCTIONS "functions" /* every BDF the call will touch */
#define GPUVIRT_DETAIL_DRIVER "driver"       /* GiveBack's target driver */
#define GPUVIRT_DETAIL_TYPE "type"           /* vGPU type id */
#define GPUVIRT_DETAIL_COUNT "count"         /* SetNumVfs' count, decimal */
#define GPUVIRT_DETAIL_UUID "uuid"           /* mdev UUID */
