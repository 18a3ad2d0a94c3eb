/* gpuvirtctl: the verb table, option parsing and the bus connection. The
 * client is unprivileged and knows the host only through gpuvirtd. */
#include "ctl.h"

#include "error-hint.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef GPUVIRT_VERSION
#error "GPUVIRT_VERSION must be defined by the build"
#endif

CtlArgs ctl_args = { .json = CTL_JSON_OFF };

/* Options a verb may take beyond --help and --no-ask-password. */
enum
{
  OPT_JSON = 1 << 0,
  OPT_ALL = 1 << 1,
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
};

/* gettext("") would answer the catalog's header */
static const char *
tr (const char *s)
{
  return s && *s ? _(s) : "";
}

static const Verb *
find_verb (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

static void
print_option_help (guint options)
{
  printf ("%s\n", _("Options:"));
  printf ("  -h --help            %s\n", _("Show this help"));
  if (options & OPT_ALL)
    printf ("  -a --all             %s\n", _("List every PCI function, not only the managed ones"));
  if (options & OPT_JSON)
    printf ("     --json[=MODE]     %s\n", _("Print JSON: pretty (the default), short (one line) or off"));
  printf ("     --no-ask-password %s\n", _("Never ask for authentication"));
}

static void
print_exit_help (void)
{
  printf ("\n%s\n", _("Exit status:"));
  printf ("  0 %s\n  1 %s\n  2 %s\n  3 %s\n  4 %s\n  5 %s\n  6 %s\n",
          _("success"), _("failure"), _("usage error (bad command, option or DEVICE)"),
          _("no such device"), _("access denied"),
          _("no system bus, or gpuvirtd not running"),
          _("refused: the device's state does not allow it"));
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
      printf ("  %-19s %s\n", g_strstrip (head), _(verbs[i].summary));
    }
  printf ("\n");
  print_option_help (OPT_JSON | OPT_ALL);
  printf ("     --version         %s\n", _("Show the version"));
  printf ("\n%s\n", _("'gpuvirtctl COMMAND --help' shows a command's help."));
  print_exit_help ();
}

static void
verb_help (const Verb *verb)
{
  printf (_("Usage: %s [OPTIONS...] %s %s\n\n"), g_get_prgname (), verb->name, tr (verb->synopsis));
  printf ("%s\n", tr (verb->details));
  print_option_help (verb->options);
  print_exit_help ();
}

static int
usage_error (const char *message)
{
  fprintf (stderr, "%s\n", message);
  fprintf (stderr, _("See '%s --help'.\n"), g_get_prgname ());
  return CTL_EXIT_USAGE;
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
  enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_ASK_PASSWORD };
  static const struct option options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, ARG_VERSION },
    { "json", optional_argument, NULL, ARG_JSON },
    { "all", no_argument, NULL, 'a' },
    { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
    {},
  };
  g_autoptr (sd_bus) bus = NULL;
  gboolean want_help = FALSE;
  guint given = 0;
  const Verb *verb;
  int c, r;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("gpuvirtctl");

  /* a password prompt needs someone at a terminal */
  ctl_args.ask_password = isatty (STDIN_FILENO);

  while ((c = getopt_long (argc, argv, "ha", options, NULL)) >= 0)
    switch (c)
      {
      case 'h':
        want_help = TRUE;
        break;
      case ARG_VERSION:
        printf ("gpuvirtctl %s\n", GPUVIRT_VERSION);
        return CTL_EXIT_OK;
      case ARG_JSON:
        if (parse_json (optarg) < 0)
          {
            g_autofree char *m = g_strdup_printf (_("Unknown JSON mode '%s': use pretty, short or off."), optarg);
            return usage_error (m);
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
      default:
        /* getopt has said what was wrong */
        fprintf (stderr, _("See '%s --help'.\n"), g_get_prgname ());
        return CTL_EXIT_USAGE;
      }

  if (optind >= argc)
    {
      if (want_help)
        {
          help ();
          return CTL_EXIT_OK;
        }
      verb = find_verb ("status");
    }
  else if (!(verb = find_verb (argv[optind])))
    {
      g_autofree char *m = g_strdup_printf (_("Unknown command '%s'."), argv[optind]);
      return usage_error (m);
    }
  if (want_help)
    {
      verb_help (verb);
      return CTL_EXIT_OK;
    }

  if (given & ~verb->options)
    {
      const char *option = (given & ~verb->options & OPT_ALL) ? "--all" : "--json";
      g_autofree char *m = g_strdup_printf (_("Option %s does not apply to '%s'."), option, verb->name);
      return usage_error (m);
    }
  {
    int n_args = optind < argc ? argc - optind - 1 : 0;

    if (n_args < verb->min_args || n_args > verb->max_args)
      {
        g_autofree char *m = n_args < verb->min_args
          ? g_strdup_printf (_("'%s' needs %s."), verb->name, tr (verb->synopsis))
          : g_strdup_printf (_("Too many arguments for '%s'."), verb->name);
        return usage_error (m);
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
  return verb->run (bus, argc - optind, argv + optind);
}
