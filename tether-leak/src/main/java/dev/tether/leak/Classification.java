package dev.tether.leak;

/**
 * Why a task still runs, judged from its thread's state and stack at the moment of the report. A single look
 * can mistake a busy loop that happens to be in a native call for a blocked one; the stack in the report shows
 * which it was.
 */
public enum Classification {
    /** The context is still live: the task is expected to run. */
    RUNNING,
    /** RUNNABLE and not in a blocking native call: a loop or computation that never checks for cancellation. */
    IGNORING_CANCELLATION,
    /**
     * RUNNABLE inside a blocking native call, such as socket or file I/O on a platform thread, a DNS look-up or
     * native code: interrupting the thread does not end the call.
     */
    BLOCKED_UNINTERRUPTIBLE,
    /** BLOCKED entering a {@code synchronized} block or method held by another thread. */
    BLOCKED_MONITOR,
    /**
     * WAITING or TIMED_WAITING: parked, sleeping, waiting on a lock, a condition, a queue or a future. Such waits
     * are interruptible; the task was not interrupted, or it caught the interrupt and waited again.
     */
    PARKED
}
