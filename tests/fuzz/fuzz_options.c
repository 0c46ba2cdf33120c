/*
 * fuzz_options.c — sanitizer defaults linked into every fuzz target.
 *
 * UndefinedBehaviorSanitizer checks are built recoverable so that reported,
 * not yet fixed bugs listed in tests/fuzz/known-bugs.supp (each with its
 * reproducer under tests/fuzz/crashes/) do not stop a campaign from finding
 * the next one; every other report halts the target like an ASan report.
 * UBSAN_OPTIONS in the environment overrides these defaults (an empty
 * suppressions= shows the known bugs again).
 */
#ifndef NT_FUZZ_SUPPRESSIONS
#define NT_FUZZ_SUPPRESSIONS "tests/fuzz/known-bugs.supp"
#endif

const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1:report_error_type=1:"
           "suppressions=" NT_FUZZ_SUPPRESSIONS;
}
