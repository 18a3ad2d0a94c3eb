/* vfio-hold: act as a VFIO user of one device until killed.
 *
 * usage: vfio-hold GROUP_NODE BDF
 * Prints "ready vfio" once it holds a container, the group and a device fd
 * (real kernel), or "ready file" when the group node answers ENOTTY/ENOSYS
 * to VFIO ioctls (the simulator's nodes are plain files, and an open group
 * node counts as a VFIO user there). Then it waits for a signal; the kernel
 * closes the fds when it dies. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int fail(const char *step)
{
  printf("error %s %s\n", step, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
  return 1;
}

int main(int argc, char **argv)
{
  struct vfio_group_status st = { .argsz = sizeof st };
  char cpath[PATH_MAX];
  const char *slash;
  int group, container, device;

  if (argc != 3) {
    fprintf(stderr, "usage: vfio-hold GROUP_NODE BDF\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  group = open(argv[1], O_RDWR | O_CLOEXEC);
  if (group < 0)
    return fail("open-group");
  if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) < 0) {
    if (errno != ENOTTY && errno != ENOSYS)
      return fail("group-status");
    printf("ready file\n");
  } else {
    /* The container lives beside the group node: <dir>/vfio. */
    slash = strrchr(argv[1], '/');
    snprintf(cpath, sizeof cpath, "%.*svfio", slash ? (int)(slash - argv[1] + 1) : 0, argv[1]);
    container = open(cpath, O_RDWR | O_CLOEXEC);
    if (container < 0)
      return fail("open-container");
    if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
      return fail("api-version");
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
      return fail("set-container");
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
      return fail("set-iommu");
    device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
    if (device < 0)
      return fail("get-device-fd");
    printf("ready vfio\n");
  }
  for (;;)
    pause();
}
