/* A MIG GPU's state in words (see mig-text.h). */
#include "mig-text.h"

#include "bus-model.h"

char *
ctl_mig_mode_text (GVariant *mig)
{
  gboolean on, pending;

  if (!mig)
    return g_strdup ("-");
  on = props_bool (mig, "Mode");
  pending = props_bool (mig, "PendingMode");
  if (on == pending)
    return g_strdup (on ? _("on") : _("off"));
  /* TRANSLATORS: MIG mode now, and after the GPU's next reset */
  return g_strdup (on ? _("on (off after the next reset)") : _("off (on after the next reset)"));
}

char *
ctl_mig_instances_text (GVariant *mig)
{
  g_autoptr (GVariant) instances = NULL;
  g_autoptr (GHashTable) counts = NULL;
  g_autoptr (GPtrArray) order = NULL;
  GString *out;

  if (!mig)
    return g_strdup ("-");
  instances = g_variant_lookup_value (mig, "GpuInstances", G_VARIANT_TYPE ("a(uusuua(uuuu))"));
  if (!instances || g_variant_n_children (instances) == 0)
    return g_strdup (_("none"));
  counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  order = g_ptr_array_new ();
  for (gsize i = 0; i < g_variant_n_children (instances); i++)
    {
      const char *profile;
      gpointer n;
      g_variant_get_child (instances, i, "(uu&suu@a(uuuu))", NULL, NULL, &profile, NULL, NULL, NULL);
      if (!g_hash_table_lookup_extended (counts, profile, NULL, &n))
        {
          char *key = g_strdup (profile);
          g_ptr_array_add (order, key);
          n = GUINT_TO_POINTER (0);
          g_hash_table_insert (counts, key, n);
        }
      g_hash_table_insert (counts, g_strdup (profile), GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
    }
  out = g_string_new (NULL);
  for (guint i = 0; i < order->len; i++)
    {
      const char *profile = order->pdata[i];
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, profile));
      if (out->len)
        g_string_append (out, ", ");
      if (n > 1)
        /* TRANSLATORS: a number of GPU instances of a MIG profile ("2 × 3g.20gb") */
        g_string_append_printf (out, _("%u × %s"), n, profile);
      else
        g_string_append (out, profile);
    }
  return g_string_free (out, FALSE);
}
