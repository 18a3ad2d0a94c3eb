/* errno names, for scenario files, fault rules and the write log. */
#include "sim-errno.h"

#include <errno.h>
#include <glib.h>

static const struct {
  const char *name;
  int value;
} errnos[] = {
  { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "EINTR", EINTR },
  { "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG }, { "EAGAIN", EAGAIN },
  { "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY },
  { "EEXIST", EEXIST }, { "ENODEV", ENODEV }, { "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR },
  { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "ERANGE", ERANGE },
  { "EDEADLK", EDEADLK }, { "ENOSYS", ENOSYS }, { "ENOTSUP", ENOTSUP }, { "EOPNOTSUPP", EOPNOTSUPP },
  { "ETIMEDOUT", ETIMEDOUT }, { "EUSERS", EUSERS }, { "ENOTTY", ENOTTY }, { "ENOSPC", ENOSPC },
  { "EPROBE_DEFER", 517 }, { "ENOTCONN", ENOTCONN }, { "ECANCELED", ECANCELED },
};

int
sim_errno_from_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (errnos); i++)
    if (g_ascii_strcasecmp (errnos[i].name, name) == 0)
      return errnos[i].value;
  return 0;
}

const char *
sim_errno_name (int value)
{
  if (value < 0)
    value = -value;
  if (value == 0)
    return "OK";
  for (gsize i = 0; i < G_N_ELEMENTS (errnos); i++)
    if (errnos[i].value == value)
      return errnos[i].name;
  return "E?";
}
