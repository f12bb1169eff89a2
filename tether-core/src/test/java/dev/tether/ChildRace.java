package dev.tether;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One round of the race that matters most: something is derived from a parent (a child context, a listener, a
 * done() stage) while the parent is being cancelled. Whoever comes second must see the other: afterwards the
 * derived thing is done, with the parent's err instance and cause.
 *
 * <p>The scenario is written against this interface so that the very same rounds run against Tether and against
 * the deliberately broken {@link NaiveTree} ({@link PlantedRaceTest}).
 */
interface ChildRace {

    /** Actor 0: cancels the parent (or an ancestor of it) with a cause of this round's own. */
    void cancel();

    /** Actor 1: derives something from the parent. */
    void derive();

    /** After both actors returned: what is wrong, or null. */
    @Nullable String verdict();

    /** The scenario: each round makes a fresh race and releases its canceller and deriver together. */
    static Stress.Scenario scenario(Supplier<? extends ChildRace> races) {
        return number -> {
            ChildRace race = races.get();
            return Stress.Round.of(race.toString(), race::verdict, race::cancel, race::derive);
        };
    }

    /** What is derived from the parent during the cancel. */
    enum Derived {
        WITH_CANCEL,
        /** On the system clock, an hour away: it must end by the cancel, never by the deadline. */
        WITH_TIMEOUT,
        WITH_VALUE_THEN_WITH_CANCEL,
        ON_DONE_DIRECT,
        ON_DONE_ASYNC,
        DONE_STAGE
    }

    /** Which context is cancelled: the one derived from, or its parent (so the cancel reaches it by propagation). */
    enum Cancelled {
        PARENT,
        GRANDPARENT
    }

    /** The race on Tether, for every combination of {@link Derived} and {@link Cancelled}. */
    final class OnTether implements ChildRace {

        private static final Key<String> KEY = Key.of("stress");

        private final Derived derived;
        private final Cancelled cancelled;
        private final boolean registrations;
        private final CancellableContext top = Context.background().withCancel();
        private final CancellableContext parent;
        private final Throwable cause = new Stress.Cause("the round's cause");
        private final AtomicInteger runs = new AtomicInteger();
        private final CountDownLatch ran = new CountDownLatch(1);
        // Written by the actors, read by the check after both returned.
        private boolean cancelReturned;
        private @Nullable Context child;
        private @Nullable CompletionStage<Void> stage;

        /**
         * With {@code registrations}, the verdict also requires that the done contexts hold nothing: a child or
         * listener left registered in a done context is retained for as long as that context is.
         */
        OnTether(Derived derived, Cancelled cancelled, boolean registrations) {
            this.derived = derived;
            this.cancelled = cancelled;
            this.registrations = registrations;
            this.parent = cancelled == Cancelled.PARENT ? top : top.withCancel();
        }

        /** Round {@code number} of a run that cycles through every combination of {@code cancelled}. */
        static OnTether cycling(int number, Cancelled[] cancelled, boolean registrations) {
            Derived[] d = Derived.values();
            int i = number % (d.length * cancelled.length);
            return new OnTether(d[i % d.length], cancelled[i / d.length], registrations);
        }

        @Override
        public void cancel() {
            cancelReturned = top.cancel(cause);
        }

        @Override
        public void derive() {
            switch (derived) {
                case WITH_CANCEL -> child = parent.withCancel();
                case WITH_TIMEOUT -> child = parent.withTimeout(Duration.ofHours(1));
                case WITH_VALUE_THEN_WITH_CANCEL -> child = parent.withValue(KEY, "v").withCancel();
                case ON_DONE_DIRECT -> parent.onDone(this::count, Runnable::run);
                case ON_DONE_ASYNC -> parent.onDone(this::count);
                case DONE_STAGE -> stage = parent.done();
            }
        }

        private void count() {
            runs.incrementAndGet();
            ran.countDown();
        }

        @Override
        public @Nullable String verdict() {
            if (!cancelReturned) {
                return "the canceller's cancel() returned false on a fresh context";
            }
            ContextDoneException err = top.err();
            if (!parent.isDone() || parent.err() != err || parent.cause() != cause) {
                return "the parent did not end with the cancel: isDone " + parent.isDone() + ", err "
                        + parent.err() + " (expected " + err + "), cause " + parent.cause();
            }
            String wrong = switch (derived) {
                case WITH_CANCEL, WITH_TIMEOUT, WITH_VALUE_THEN_WITH_CANCEL -> childVerdict(err);
                case ON_DONE_DIRECT -> runs.get() == 1 ? null : "the onDone action ran " + runs.get() + " times";
                case ON_DONE_ASYNC -> asyncVerdict();
                case DONE_STAGE -> stage != null && stage.toCompletableFuture().isDone()
                        && !stage.toCompletableFuture().isCompletedExceptionally()
                        ? null : "the done() stage did not complete normally: " + stage;
            };
            if (wrong != null || !registrations) {
                return wrong;
            }
            return leftRegistered();
        }

        private @Nullable String childVerdict(@Nullable ContextDoneException err) {
            Context c = child;
            if (c == null) {
                return "no child was made";
            }
            if (!c.isDone()) {
                return "MISSED CHILD: the parent is cancelled but its child " + c + " is not done";
            }
            if (c.err() != err || c.cause() != cause) {
                return "the child ended with err " + c.err() + " / cause " + c.cause() + ", expected the parent's "
                        + err + " / " + cause;
            }
            if (derived == Derived.WITH_VALUE_THEN_WITH_CANCEL && !"v".equals(c.value(KEY))) {
                return "the child lost its value";
            }
            if (c instanceof CancellableContext cc && cc.cancel()) {
                return "cancel() on the ended child returned true";
            }
            return null;
        }

        private @Nullable String asyncVerdict() {
            try {
                if (!ran.await(5, TimeUnit.SECONDS)) {
                    return "the async onDone action did not run within 5 s";
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
            return runs.get() == 1 ? null : "the async onDone action ran " + runs.get() + " times";
        }

        /** A done context holds no children or listeners: they would be retained for as long as it is. */
        private @Nullable String leftRegistered() {
            for (CancellableContext c : new CancellableContext[] {top, parent}) {
                int n = ((CancelContext) c).childCount();
                if (n != 0) {
                    return "LEFT REGISTERED: the done " + (c == top ? "cancelled context" : "parent (cancelled by"
                            + " its parent)") + " still holds " + n + " child(ren) or listener(s)";
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return derived + " while the " + cancelled + " is cancelled";
        }
    }
}
