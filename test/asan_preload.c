/*
 * test/asan_preload.c: preloaded after libasan under SANITIZE=1 (see
 * se_sanitizer_env in test/lib.sh) so that ASan's runtime can start inside
 * Debian's uninstrumented postgres.
 *
 * Without it, postgres hangs before main.  The runtime preloaded with
 * LD_PRELOAD runs its constructor after those of every library postgres
 * links, and libgpg-error's (reached through libsystemd and libgcrypt) calls
 * bindtextdomain, whose malloc, made while glibc holds _nl_state_lock for
 * writing, is the first one: ASan initializes there.  The end of that
 * initialization looks up swift_demangle with dlsym and clears the failure
 * with dlerror(), which translates the message through dcgettext; there
 * rdlock(_nl_state_lock) fails with EDEADLK (this thread is the writer, the
 * error is ignored) and the matching unlock releases the writer lock.  When
 * bindtextdomain unlocks in turn, the reader count drops below zero, and
 * postgres's own bindtextdomain in main waits for the lock forever.
 *
 * Defining swift_demangle makes that dlsym succeed, so dlerror() has no
 * message to translate and never touches the lock.  ASan only calls it to
 * demangle Swift names; returning NULL makes it fall back to its own C++
 * demangler.
 */
#include <stddef.h>

char	   *swift_demangle(const char *mangled, size_t mangled_len, char *out,
						   size_t *out_len, unsigned flags);

char *
swift_demangle(const char *mangled, size_t mangled_len, char *out,
			   size_t *out_len, unsigned flags)
{
	return NULL;
}
