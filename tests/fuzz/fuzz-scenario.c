/* The simulator's scenario files (simfs/SCENARIOS.md): JSON read into a
 * simulated host, or refused with a message. */
#include "fuzz.h"

#include "sim-model.h"

#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = g_build_filename (fuzz_tmpdir (), "scenario.json", NULL);
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  SimHost *host;

  fuzz_put (fuzz_tmpdir (), "scenario.json", text);
  host = sim_scenario_load (path, &error);
  if (!host == !error)
    abort ();
  if (error && !*error->message)
    abort ();
  if (host)
    sim_host_free (host);
  return 0;
}
