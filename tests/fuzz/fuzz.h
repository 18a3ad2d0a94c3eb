/* What every fuzz target shares. A target defines LLVMFuzzerTestOneInput()
 * and is linked either with libFuzzer (-Dfuzzing=true, clang) or with
 * replay.c, which feeds it every file of its corpus: the same code runs
 * under meson test in seconds and under the fuzzer for hours.
 *
 * Inputs with several parts (a main file and drop-ins, a file per
 * attribute) separate them with NUL bytes, which no text input holds. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* DATA split at NUL bytes into at most MAX parts (the last part keeps any
 * further NULs as they are cut off by C strings); each part is a
 * NUL-terminated copy. At least one part, possibly empty. */
GStrv fuzz_split (const uint8_t *data, size_t size, guint max);

/* A private directory for this process, made on first use and removed
 * at exit (targets whose parser reads files write them there). */
const char *fuzz_tmpdir (void);
/* Writes TEXT to DIR/REL (directories made as needed); aborts on failure,
 * as a target that cannot prepare its input tests nothing. */
void fuzz_put (const char *dir, const char *rel, const char *text);
/* Removes PATH and everything below it (no error when missing). */
void fuzz_rm_tree (const char *path);
