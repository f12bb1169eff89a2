package dev.tether;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Structured concurrency bound to a context: tasks forked in a group run in the group's own context, and none of
 * them outlives the group. Go's {@code errgroup.WithContext} and the JDK's {@code StructuredTaskScope} (a preview
 * API on Java 21 and 25), with the context tree doing the cancelling.
 *
 * {@snippet :
 * try (TaskGroup group = TaskGroup.open(ctx)) {                 // FAIL_FAST: the first failure cancels the rest
 *     TaskGroup.Fork<User> user = group.fork(() -> users.load(id));
 *     TaskGroup.Fork<Cart> cart = group.fork(() -> carts.load(id));
 *     group.join();                                             // ExecutionException, or ctx's err at its deadline
 *     return new Page(user.get(), cart.get());
 * }                                                             // close(): cancels and waits; nothing runs on
 * }
 *
 * <h2>What a group promises</h2>
 * <ul>
 *   <li>Each fork runs on a new virtual thread (or a thread of the given {@link ThreadFactory} or
 *       {@link Executor}) with {@link #context()} bound as {@link Context#current()}. The group's context is a
 *       child of the parent: it ends when the parent does (its deadline included), when the policy says so, and
 *       at {@link #close()}.</li>
 *   <li>When the group's context is done, every running fork is interrupted and forks that have not started
 *       never start. Forks forked after that are {@link Fork.State#CANCELLED} at once.</li>
 *   <li>{@link #close()} cancels what still runs and <em>waits</em> until every fork has ended: after the
 *       try-with-resources block, no code forked in the group runs, ever; threads the group started itself have
 *       terminated. A fork that ignores its interrupt makes
 *       close wait; see Diagnostics.</li>
 *   <li>Only the thread that opened the group (the owner) and the group's own forks may call {@link #fork};
 *       only the owner may call {@link #join()} and {@link #close()}. Any other thread, and any call after
 *       close, gets an {@link IllegalStateException} that says so.</li>
 * </ul>
 *
 * <h2>Policies and join</h2>
 * {@link #join()} waits until every fork has ended and reports by the {@link Policy}:
 * <ul>
 *   <li>{@link Policy#FAIL_FAST}: the first fork to fail cancels the group's context, with that failure as the
 *       context's {@link Context#cause()}. join throws an {@link ExecutionException} whose cause is that first
 *       failure; the failures of the other forks are suppressed on it.</li>
 *   <li>{@link Policy#COLLECT_ALL}: no fork's failure cancels the others. join throws an ExecutionException
 *       with the first failure as cause and the others suppressed on it, if any fork failed.</li>
 *   <li>{@link Policy#FIRST_SUCCESS}: the first fork to succeed cancels the others; join returns normally and
 *       {@link #result()} is the winner's value. If every fork fails, join throws as COLLECT_ALL does.</li>
 *   <li>In every policy, if the group's context ends first (the parent's deadline passes, the parent is
 *       cancelled), the forks are cancelled and join throws that context's {@link Context#err()} at once,
 *       without waiting for the forks (close waits for them). No one polls: the context's own
 *       {@link Context#onDone} action does the interrupting and wakes join.</li>
 * </ul>
 * A fork that ends with an interruption-shaped exception ({@link InterruptedException},
 * {@link CancellationException} including {@link ContextDoneException}, {@link InterruptedIOException},
 * {@link ClosedByInterruptException}, anywhere in its cause chain, or any {@link IOException} after the group
 * interrupted it) after the group's context is done counts as {@link Fork.State#CANCELLED}, not as a failure:
 * it is what the cancellation did, not news. Any other exception is a failure, also one thrown while the
 * context was ending, so two forks failing at once give one primary failure and one suppressed, every time.
 * When the first failure is itself a {@link ContextDoneException} (which contexts share, and which must not
 * change), the others are suppressed on the {@link ExecutionException} instead.
 *
 * <h2>What interruption reaches</h2>
 * Cancelling a fork means interrupting its thread, the JDK's one cancellation signal for blocked code.
 * <ul>
 *   <li>Interruptible, so a cancelled fork returns from them promptly: {@code Thread.sleep}, {@code Object.wait},
 *       {@code Thread.join}, {@code LockSupport.park} (returns without an exception), {@code Lock.lockInterruptibly}
 *       and {@code Condition.await}, {@code BlockingQueue.take/put/poll(timeout)}, {@code Semaphore.acquire},
 *       {@code CountDownLatch.await}, {@code CyclicBarrier.await}, {@code Future.get} and
 *       {@code CompletableFuture.get}, {@code ExecutorService.invokeAll/awaitTermination},
 *       {@code Process.waitFor}, {@code HttpClient.send}, I/O on an {@code InterruptibleChannel}
 *       ({@code SocketChannel}, {@code FileChannel}: the channel is closed, {@link ClosedByInterruptException}),
 *       {@code Selector.select} (wakes up), every {@link Blocking} method, and, <em>on virtual threads only</em>,
 *       blocking I/O on {@code java.net.Socket}, {@code ServerSocket} and {@code DatagramSocket} (the socket is
 *       closed and the call throws {@code SocketException}).</li>
 *   <li>Not interruptible; a fork blocked here runs on until the call returns by itself, and close() waits for
 *       it: entering a {@code synchronized} block, {@code ReentrantLock.lock()}, {@code CompletableFuture.join()},
 *       {@code java.net.Socket} I/O on a <em>platform</em> thread (set a socket timeout, or close the socket from
 *       an {@link Context#onDone} action), {@code java.io} file and console streams ({@code FileInputStream},
 *       {@code System.in}) on any thread, DNS look-ups ({@code InetAddress}), native code, JDBC calls (most
 *       drivers; tether-jdbc maps the context to {@code Statement.cancel} and query timeouts), and CPU-bound
 *       loops, which must check {@link Context#isDone()} or {@link Thread#interrupted()} themselves.</li>
 *   <li>Code that catches {@link InterruptedException} and carries on swallows the cancellation; the group
 *       cannot see that, but its diagnostics do.</li>
 * </ul>
 * Interrupts are delivered only while a fork's task runs: never before it starts, never after it ended. A fork
 * run by an {@link Executor} gets its interrupt cleared before its thread goes back to the pool, so no stray
 * interrupt reaches the pool's next task.
 *
 * <h2>Diagnostics</h2>
 * A running fork's {@code toString()} tells whether and how long ago a still-running fork was interrupted. When close() has
 * waited {@code dev.tether.stuckForkReportMillis} (default 1000) for forks that were interrupted and still run,
 * it logs them once with their stack traces, at WARNING on the {@code dev.tether.TaskGroup}
 * {@link System.Logger}, and then goes on waiting.
 *
 * <h2>Memory consistency effects</h2>
 * Everything a fork does happens-before its {@link Fork#state()} reads as a final state, and before
 * {@link #join()} (returning or throwing) and {@link #close()} return for the forks they waited for.
 */
public final class TaskGroup implements AutoCloseable {

    /*
     * Implementation overview.
     *
     * One ReentrantLock guards the group's mutable state: the live forks (not yet ended), the failures in the
     * order they were recorded, the decided outcome and the closed flag; `changed` wakes join and close. Each fork
     * has its own InterruptGuard, so an interrupt reaches its thread only while its task runs.
     *
     * The group's context (a withCancel child of the parent) has one onDone action, run on the thread that ends
     * the context (Runnable::run): under the lock it fires every live fork's guard (an interrupt, or "never
     * start" for a fork not yet started, which it then ends as CANCELLED). Because it runs after the context's
     * state is set, a fork that ends in reaction to the interrupt sees the context done and is classified
     * CANCELLED.
     *
     * The decided outcome goes NONE -> FAILED (FAIL_FAST's first failure) | WON (FIRST_SUCCESS's first success) |
     * ENDED (the context ended while forks were live and nothing else was decided), once. FAILED and WON cancel
     * the context after releasing the lock; ENDED is set by the onDone action, so it always follows the context
     * ending by someone else (the parent: the group's context has no deadline of its own, and close() makes join
     * unusable).
     *
     * Lock rule: no context method is called while holding the lock. isDone() can end a context whose deadline
     * passed and run onDone actions inline, which take other groups' locks; calling it outside the lock keeps
     * nested groups from deadlocking. fire() and Thread.interrupt() are lock-free and may be called under it.
     *
     * A fork ends exactly once: its state leaves RUNNING only under the lock, in finish() or in the onDone action,
     * which also removes it from `live`. The fork's thread reads CURRENT_FORK to let forks fork.
     */

    /** How a group reacts to its forks' outcomes; see the class documentation. */
    public enum Policy {
        /** The first failure cancels the other forks and is join's cause. Go's errgroup. */
        FAIL_FAST,
        /** Every fork runs to its end; join reports the first failure, the others suppressed on it. */
        COLLECT_ALL,
        /** The first success cancels the other forks and is {@link TaskGroup#result()}: a race, or hedging. */
        FIRST_SUCCESS
    }

    /**
     * A task forked in a {@link TaskGroup}: its state, and its result or failure once it has ended. Like the
     * JDK's {@code StructuredTaskScope.Subtask}.
     */
    public sealed interface Fork<T> extends Supplier<T> permits Task {

        /** Where a fork is. A fork that has not started yet is RUNNING. */
        enum State {
            /** Not ended yet (also: not started yet). */
            RUNNING,
            /** Returned a value, available from {@link Fork#get()}. */
            SUCCEEDED,
            /** Threw; the exception is {@link Fork#exception()}. */
            FAILED,
            /** Ended because the group's context ended: never started, or stopped by the cancellation. */
            CANCELLED
        }

        /**
         * The value of a fork that succeeded.
         *
         * @throws IllegalStateException if the fork has not succeeded (the message tells its state; a failure is
         *     attached as the cause)
         */
        @Override
        T get();

        /** Where the fork is now. */
        State state();

        /** The exception of a {@link State#FAILED} fork, else null. */
        @Nullable Throwable exception();
    }

    private static final ThreadFactory VIRTUAL_THREADS = Thread.ofVirtual().name("tether-fork-", 0).factory();

    /** The fork the current thread runs, if any: forks of a group may fork in it. */
    private static final ThreadLocal<@Nullable Task<?>> CURRENT_FORK = new ThreadLocal<>();

    private static final long STUCK_REPORT_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("dev.tether.stuckForkReportMillis", 1000));

    private enum Outcome { NONE, FAILED, WON, ENDED }

    private final CancellableContext ctx;
    /** What forks see as current and what {@link #context()} returns: ctx without the means to cancel it. */
    private final AbstractContext view;
    private final Policy policy;
    private final @Nullable ThreadFactory threadFactory;
    private final @Nullable Executor executor;
    private final Thread owner;
    /** The fork the owner ran when it opened this group, so that forks of enclosing groups may fork here. */
    private final @Nullable Task<?> ownerFork;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a fork ends or the outcome is decided. */
    private final Condition changed = lock.newCondition();

    // All guarded by lock.
    /** Forks not ended yet, started or not. */
    private final Map<Task<?>, Boolean> live = new IdentityHashMap<>();
    /** Threads this group started with its thread factory, for close() to join; guarded by lock. */
    private final List<Thread> threads = new ArrayList<>();
    /** Failures in the order forks recorded them; the first is join's cause. */
    private final List<Throwable> failures = new ArrayList<>();
    /** How many of failures[1..] have been suppressed on failures[0] already, so repeated joins add none twice. */
    private int suppressedAdded;
    private Outcome decided = Outcome.NONE;
    /** Set by the onDone action: the context has ended, so new forks are cancelled at once. */
    private boolean contextEnded;
    private boolean closed;

    /** Written under lock with decided = WON; read by any thread. */
    private volatile @Nullable Task<?> winner;

    private TaskGroup(Context parent, Policy policy, @Nullable ThreadFactory threadFactory,
            @Nullable Executor executor) {
        this.ctx = parent.withCancel();
        this.view = (AbstractContext) ((CancelContext) ctx).visible();
        this.policy = policy;
        this.threadFactory = threadFactory;
        this.executor = executor;
        this.owner = Thread.currentThread();
        this.ownerFork = CURRENT_FORK.get();
    }

    /** A group with {@link Policy#FAIL_FAST} whose forks run on new virtual threads. */
    public static TaskGroup open(Context parent) {
        return open(parent, Policy.FAIL_FAST);
    }

    /** A group with the given policy whose forks run on new virtual threads. */
    public static TaskGroup open(Context parent, Policy policy) {
        return open(parent, policy, VIRTUAL_THREADS);
    }

    /**
     * A group whose forks run each on a new thread of {@code threadFactory}, for platform threads, names or
     * priorities of your own.
     */
    public static TaskGroup open(Context parent, Policy policy, ThreadFactory threadFactory) {
        Objects.requireNonNull(parent, "parent must not be null");
        Objects.requireNonNull(policy, "policy must not be null");
        Objects.requireNonNull(threadFactory, "threadFactory must not be null");
        return new TaskGroup(parent, policy, threadFactory, null).start();
    }

    /**
     * A group whose forks run on {@code executor}, such as a bounded pool. The group's guarantees hold: close()
     * waits for started forks and keeps queued ones from ever running, and a fork's interrupt is cleared before
     * the pool thread runs anything else. If the executor rejects a fork, {@link #fork} throws its
     * {@link RejectedExecutionException}. A fork that waits for another fork on a pool too small for both
     * deadlocks, as with any executor. (Not an overload of {@code open}: a lambda such as
     * {@code r -> new Thread(r)} would fit both an Executor and a ThreadFactory.)
     */
    public static TaskGroup openOnExecutor(Context parent, Policy policy, Executor executor) {
        Objects.requireNonNull(parent, "parent must not be null");
        Objects.requireNonNull(policy, "policy must not be null");
        Objects.requireNonNull(executor, "executor must not be null");
        return new TaskGroup(parent, policy, null, executor).start();
    }

    private TaskGroup start() {
        ctx.onDone(this::contextEnded, Runnable::run); // no need to keep it: the group's context always ends
        return this;
    }

    /** The group's own context: a child of the parent, bound as current in every fork, cancelled by close(). */
    public Context context() {
        return view;
    }

    /** This group's policy. */
    public Policy policy() {
        return policy;
    }

    /**
     * Starts {@code task} in the group and returns its fork. If the group's context is already done, the fork is
     * {@link Fork.State#CANCELLED} at once and the task never runs.
     *
     * @throws IllegalStateException if the group is closed, or the caller is neither the owner nor a fork of the
     *     group
     * @throws RejectedExecutionException if the executor rejects the fork or the thread factory makes no thread
     */
    public <T> Fork<T> fork(Callable<? extends T> task) {
        Objects.requireNonNull(task, "task must not be null");
        checkForkCaller();
        Task<T> fork = new Task<>(this, task, view.submitted());
        boolean done = ctx.isDone(); // outside the lock: may end the context and run its action (see overview)
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("fork() after close(): " + this + " is closed, and nothing may"
                        + " run in it any more; open a new group");
            }
            if (done || contextEnded) {
                fork.state = Fork.State.CANCELLED;
                // Done, and not by this group's policy (that decides before cancelling) nor by close (checked
                // above): the parent ended it.
                if (decided == Outcome.NONE) {
                    decided = Outcome.ENDED;
                }
                return fork;
            }
            live.put(fork, Boolean.TRUE);
        } finally {
            lock.unlock();
        }
        try {
            if (executor != null) {
                executor.execute(fork);
            } else {
                Thread thread = Objects.requireNonNull(threadFactory).newThread(fork);
                if (thread == null) {
                    throw new RejectedExecutionException("thread factory " + threadFactory + " made no thread");
                }
                thread.start();
                rememberThread(thread);
            }
        } catch (Throwable t) {
            abandon(fork);
            throw t;
        }
        return fork;
    }

    /**
     * Waits until every fork has ended (or the group's context ended first), then reports by the policy: returns
     * normally, throws the first failure wrapped in an {@link ExecutionException} (later failures suppressed on
     * it), or throws the context's err. May be called again after more forks.
     *
     * @throws ExecutionException if the policy reports a failure
     * @throws ContextDoneException the group's context's err, if it ended before the policy was satisfied
     * @throws InterruptedException if the owner is interrupted while waiting; the forks go on (close cancels)
     * @throws IllegalStateException if called by a thread other than the owner, or after close
     */
    public void join() throws InterruptedException, ExecutionException {
        checkOwner("join()");
        Outcome outcome;
        ExecutionException failure = null;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("join() after close(): " + this + " is closed");
            }
            while (!live.isEmpty() && decided != Outcome.ENDED) {
                changed.await();
            }
            outcome = decided;
            if (outcome == Outcome.FAILED || (outcome == Outcome.NONE && !failures.isEmpty())) {
                failure = aggregateFailures();
            }
        } finally {
            lock.unlock();
        }
        if (outcome == Outcome.ENDED) {
            throw Objects.requireNonNull(ctx.err(), "ENDED follows the context ending");
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The first failure as cause, the later ones suppressed; called under lock. */
    private ExecutionException aggregateFailures() {
        Throwable primary = failures.get(0);
        ExecutionException failure = new ExecutionException(primary);
        if (primary instanceof ContextDoneException) {
            // Contexts share their err instances; suppressing onto one would change what every context reports.
            for (int i = 1; i < failures.size(); i++) {
                failure.addSuppressed(failures.get(i));
            }
        } else {
            for (int i = suppressedAdded + 1; i < failures.size(); i++) {
                Throwable later = failures.get(i);
                if (later != primary) { // the same instance thrown twice; self-suppression is not allowed
                    primary.addSuppressed(later);
                }
            }
            suppressedAdded = failures.size() - 1;
        }
        return failure;
    }

    /**
     * The value of the fork that won a {@link Policy#FIRST_SUCCESS} group. The type is the caller's to name, as
     * with an unchecked cast: {@code String fastest = group.result();}.
     *
     * @throws IllegalStateException if the policy is not FIRST_SUCCESS, or no fork has succeeded (yet)
     */
    @SuppressWarnings("unchecked")
    public <T> T result() {
        if (policy != Policy.FIRST_SUCCESS) {
            throw new IllegalStateException("result() is for FIRST_SUCCESS groups; this one is " + policy
                    + ": use each fork's get()");
        }
        Task<?> w = winner;
        if (w == null) {
            throw new IllegalStateException("no fork of " + this + " has succeeded");
        }
        return (T) w.get();
    }

    /**
     * Cancels the group's context, which interrupts the forks still running and keeps unstarted ones from
     * starting, then waits, uninterruptibly, until every fork has ended. An interrupt of the owner while waiting
     * is kept as its interrupt flag. Idempotent. After close returns, no code forked in the group runs.
     *
     * @throws IllegalStateException if called by a thread other than the owner (a fork closing its own group
     *     would wait for itself)
     */
    @Override
    public void close() {
        checkOwner("close()");
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        ctx.cancel(); // the onDone action interrupts and prevents, on this thread, before cancel returns
        boolean interrupted = false;
        long start = System.nanoTime();
        boolean reported = false;
        lock.lock();
        try {
            while (!live.isEmpty()) {
                try {
                    if (reported) {
                        changed.await();
                    } else {
                        long left = STUCK_REPORT_NANOS - (System.nanoTime() - start);
                        if (left <= 0) {
                            reportStuck();
                            reported = true;
                        } else {
                            changed.awaitNanos(left);
                        }
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            lock.unlock();
        }
        // Every fork's task has returned; wait for the threads this group started to end too, so that after
        // close() not even the group's own bookkeeping runs on them (they end within microseconds).
        List<Thread> started;
        lock.lock();
        try {
            started = new ArrayList<>(threads);
            threads.clear();
        } finally {
            lock.unlock();
        }
        for (Thread thread : started) {
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Records a thread this group started, for close() to join; drops ended ones now and then. */
    private void rememberThread(Thread thread) {
        lock.lock();
        try {
            int n = threads.size();
            if (n >= 64 && (n & (n - 1)) == 0) {
                threads.removeIf(t -> !t.isAlive());
            }
            threads.add(thread);
        } finally {
            lock.unlock();
        }
    }

    /** Logs the forks close() is stuck on, with where they are; called under lock. */
    private void reportStuck() {
        System.Logger logger = System.getLogger(TaskGroup.class.getName());
        if (!logger.isLoggable(System.Logger.Level.WARNING)) {
            return;
        }
        StringBuilder message = new StringBuilder("TaskGroup.close() has waited ")
                .append(TimeUnit.NANOSECONDS.toMillis(STUCK_REPORT_NANOS)).append(" ms for ").append(live.size())
                .append(" fork(s) of ").append(this)
                .append(" that still run after cancellation (blocked in a call that ignores interrupts, or"
                        + " swallowing them); still waiting:");
        for (Task<?> fork : live.keySet()) {
            message.append("\n  ").append(fork);
            Thread thread = fork.thread;
            if (thread != null) {
                for (StackTraceElement frame : thread.getStackTrace()) {
                    message.append("\n      at ").append(frame);
                }
            }
        }
        logger.log(System.Logger.Level.WARNING, message.toString());
    }

    // ---- fork lifecycle ----

    /** The group context's onDone action; runs on the thread that ended the context, after its state is set. */
    private void contextEnded() {
        lock.lock();
        try {
            contextEnded = true;
            if (decided == Outcome.NONE && !live.isEmpty()) {
                decided = Outcome.ENDED;
            }
            for (var it = live.keySet().iterator(); it.hasNext(); ) {
                Task<?> fork = it.next();
                if (fork.guard.fire() == InterruptGuard.Fired.PREVENTED) {
                    fork.state = Fork.State.CANCELLED; // never started, and now never will
                    it.remove();
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Records how a fork's task ended, on the fork's thread, after its interrupt guard is disarmed. */
    private void finish(Task<?> fork, @Nullable Object value, @Nullable Throwable failure, boolean interrupted) {
        boolean done = failure != null && ctx.isDone(); // outside the lock: see the overview
        Fork.State state;
        if (failure == null) {
            state = Fork.State.SUCCEEDED;
        } else if (done && causedByCancellation(failure, interrupted)) {
            state = Fork.State.CANCELLED;
        } else {
            state = Fork.State.FAILED;
        }
        boolean cancel = false;
        lock.lock();
        try {
            if (fork.state != Fork.State.RUNNING) {
                return;
            }
            fork.value = value;
            fork.failure = failure;
            fork.state = state;
            live.remove(fork);
            if (state == Fork.State.FAILED) {
                failures.add(failure);
                if (policy == Policy.FAIL_FAST && decided == Outcome.NONE) {
                    decided = Outcome.FAILED;
                    cancel = true;
                }
            } else if (state == Fork.State.SUCCEEDED && policy == Policy.FIRST_SUCCESS
                    && decided == Outcome.NONE) {
                decided = Outcome.WON;
                winner = fork;
                cancel = true;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (cancel) {
            ctx.cancel(state == Fork.State.FAILED ? failure : null);
        }
    }

    /** Ends a fork that could not be started; fork() then throws. */
    private void abandon(Task<?> fork) {
        lock.lock();
        try {
            if (live.remove(fork) != null) {
                fork.state = Fork.State.CANCELLED;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether an exception is what cancelling a fork made it throw; see the class documentation. */
    private static boolean causedByCancellation(Throwable failure, boolean interruptedByGroup) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof InterruptedException || t instanceof CancellationException
                    || t instanceof InterruptedIOException || t instanceof ClosedByInterruptException
                    || (interruptedByGroup && t instanceof IOException)) {
                return true;
            }
        }
        return false;
    }

    // ---- threads ----

    private void checkOwner(String method) {
        Thread current = Thread.currentThread();
        if (current != owner) {
            throw new IllegalStateException(method + " called on thread \"" + current.getName() + "\", but "
                    + this + " is owned by thread \"" + owner.getName() + "\", which opened it; only the owner may"
                    + " join or close a group");
        }
    }

    private void checkForkCaller() {
        Thread current = Thread.currentThread();
        if (current == owner) {
            return;
        }
        for (Task<?> f = CURRENT_FORK.get(); f != null; f = f.group.ownerFork) {
            if (f.group == this) {
                return;
            }
        }
        throw new IllegalStateException("fork() called on thread \"" + current.getName() + "\", which is neither"
                + " the owner of " + this + " (thread \"" + owner.getName() + "\") nor one of its forks; open a"
                + " TaskGroup on this thread instead");
    }

    @Override
    public String toString() {
        int running;
        lock.lock();
        try {
            running = live.size();
        } finally {
            lock.unlock();
        }
        return "TaskGroup[" + policy + ", " + running + " running, " + ctx + "]";
    }

    /** A fork: the task, its interrupt guard and, once ended, its outcome. */
    private static final class Task<T> implements Fork<T>, Runnable {

        final TaskGroup group;
        private final Callable<? extends T> callable;
        /** What an installed ContextObserver made of the fork's submission; passed on when it starts. */
        private final @Nullable Object submitted;
        final InterruptGuard guard = new InterruptGuard();
        /** Leaves RUNNING once, under the group's lock; volatile so that state() needs no lock. */
        volatile Fork.State state = Fork.State.RUNNING;
        /** Written under the group's lock before state leaves RUNNING; read after reading state. */
        @Nullable Object value;
        @Nullable Throwable failure;
        /** The thread running the task, while it runs; for diagnostics. */
        volatile @Nullable Thread thread;

        Task(TaskGroup group, Callable<? extends T> callable, @Nullable Object submitted) {
            this.group = group;
            this.callable = callable;
            this.submitted = submitted;
        }

        @Override
        public void run() {
            if (!guard.arm()) {
                return; // cancelled before it started; the group's onDone action has ended it
            }
            Thread current = Thread.currentThread();
            thread = current;
            Task<?> outer = CURRENT_FORK.get();
            CURRENT_FORK.set(this);
            Object value = null;
            Throwable failure = null;
            try {
                value = group.view.call(callable, submitted);
            } catch (Throwable t) {
                failure = t;
            } finally {
                if (outer == null) {
                    CURRENT_FORK.remove(); // a pooled thread keeps no trace of the fork
                } else {
                    CURRENT_FORK.set(outer);
                }
            }
            // From here on the group never interrupts this thread, and an interrupt it sent is cleared.
            boolean interrupted = guard.disarm();
            thread = null;
            group.finish(this, value, failure, interrupted);
        }

        @Override
        @SuppressWarnings("unchecked")
        public T get() {
            Fork.State s = state;
            if (s == Fork.State.SUCCEEDED) {
                return (T) value;
            }
            throw new IllegalStateException("fork has not succeeded: " + this,
                    s == Fork.State.FAILED ? failure : null);
        }

        @Override
        public Fork.State state() {
            return state;
        }

        @Override
        public @Nullable Throwable exception() {
            return state == Fork.State.FAILED ? failure : null;
        }

        @Override
        public String toString() {
            Fork.State s = state;
            StringBuilder out = new StringBuilder("Fork[").append(s);
            switch (s) {
                case RUNNING -> {
                    Thread t = thread;
                    out.append(t == null ? ", not started" : ", on " + t);
                    if (guard.interrupted()) {
                        out.append(", interrupted ")
                                .append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - guard.firedAtNanos()))
                                .append(" ms ago and still running");
                    }
                }
                case FAILED -> out.append(": ").append(failure);
                case CANCELLED -> {
                    if (failure != null) {
                        out.append(" (ended with ").append(failure).append(')');
                    }
                }
                case SUCCEEDED -> { }
            }
            return out.append(']').toString();
        }
    }
}
