/**
 * The watchdog every PostgreSQL server is started through, so that no server outlives the
 * process that started it, even when that process dies by SIGKILL and runs no cleanup.
 *
 * The parent holds the only writing end of the wrapper's stdin. The wrapper (POSIX sh, a few
 * hundred kilobytes, no extra runtime) starts postgres in the background and blocks reading that
 * stdin; end-of-file means the parent is gone, whatever killed it, and the wrapper asks postgres
 * for a fast shutdown (SIGINT: disconnect clients, checkpoint, exit). SIGTERM/SIGINT sent to the
 * wrapper are forwarded the same way, and the wrapper exits with postgres's own status.
 */

/** The wrapper script, run as `sh -c WATCHDOG_SCRIPT watchdog <postgres> <args…>`. */
export const WATCHDOG_SCRIPT = `
exec 3<&0 0</dev/null
"$@" 3<&- &
pg=$!
{ while read -r _ <&3; do :; done; kill -INT "$pg" 2>/dev/null; } &
watch=$!
exec 3<&-
trap 'kill -INT "$pg" 2>/dev/null' INT TERM HUP
while :; do
  wait "$pg"
  status=$?
  kill -0 "$pg" 2>/dev/null || break
done
kill "$watch" 2>/dev/null
exit "$status"
`;
