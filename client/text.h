/* Values as people read them: the text output of every verb. */
#pragma once

#include "ctl.h"

#include <stdio.h>

/* "-" for NULL or "", else S. */
const char *ctl_dash (const char *s);
/* Any value on one line: paths as addresses, booleans as yes/no, empty as
 * "-", arrays joined with ", ". */
char *ctl_text_value (GVariant *v);
/* Prints "   LABEL: value" with labels right-aligned to WIDTH columns;
 * continuation lines (VALUE with '\n') are indented to match. */
void ctl_print_field (FILE *f, int width, const char *label, const char *value);
/* "Vendor Model" of a Device's properties; either part may be unknown. */
char *ctl_device_description (GVariant *props);
/* Terminal columns of C: 2 for a wide (CJK) character, 0 for a combining
 * mark or other zero-width one, else 1. Never the byte or character count:
 * translated labels and device names line up only by these columns. */
int ctl_char_width (gunichar c);
/* TEXT (a message from gpuvirtd) with control characters other than
 * newline and tab shown as \xNN, so nothing sent by someone else can
 * drive the terminal. */
char *ctl_text_safe (const char *text);
/* Terminal columns of S: the sum of ctl_char_width() (its bytes if S is
 * not UTF-8). */
int ctl_text_width (const char *s);
/* Spaces that pad S to WIDTH columns ("%*s" with ""), 0 if it is wider;
 * printf's "%-*s" would count bytes. */
int ctl_text_pad (const char *s, int width);

/* Whether ANSWER (a line typed at a [y/N] question) says yes: the
 * locale's answer (rpmatch(), which follows LC_MESSAGES), or the first
 * letter of the translated "y" (the question follows LANGUAGE, which may
 * differ: LANGUAGE=de with LC_MESSAGES=C asks [j/N]). */
gboolean ctl_answer_is_yes (const char *answer);

/* A list of "Label: value" lines printed with aligned labels. */
typedef struct CtlFields CtlFields;

CtlFields *ctl_fields_new (void);
void ctl_fields_free (CtlFields *fields);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlFields, ctl_fields_free)
/* Adds a field; takes VALUE (NULL or "" print as "-"). */
void ctl_fields_take (CtlFields *fields, const char *label, char *value);
void ctl_fields_add (CtlFields *fields, const char *label, const char *value);
void ctl_fields_print (CtlFields *fields, FILE *f);
