package dev.tether;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Every context that cannot be cancelled itself: roots, values, {@code withoutCancel()} and the read-only view
 * that {@link Context#current()} returns for a cancellable context. Its done state and deadline are those of
 * {@link #source}, the nearest cancellable context above it, found once at creation so that {@link #isDone()}
 * costs the same at any depth.
 */
final class SimpleContext extends AbstractContext {

    static final byte BACKGROUND_KIND = 0;
    static final byte TODO_KIND = 1;
    static final byte ROOT = 2;
    static final byte VALUE = 3;
    static final byte WITHOUT_CANCEL = 4;
    static final byte VIEW = 5;

    static final SimpleContext BACKGROUND =
            new SimpleContext(null, BACKGROUND_KIND, null, ValueMap.EMPTY, TimeSource.system(), null);
    static final SimpleContext TODO =
            new SimpleContext(null, TODO_KIND, null, ValueMap.EMPTY, TimeSource.system(), null);

    /** The stage of a context that is never done. */
    private static final CompletionStage<Void> NEVER = new CompletableFuture<Void>().minimalCompletionStage();

    final byte kind;
    private final @Nullable CancelContext source;
    /** The key of a VALUE context, else null. For {@link #describe}. */
    private final @Nullable Object detail;

    SimpleContext(
            @Nullable AbstractContext parent,
            byte kind,
            @Nullable CancelContext source,
            ValueMap values,
            TimeSource time,
            @Nullable Object detail) {
        super(parent, values, time);
        this.kind = kind;
        this.source = source;
        this.detail = detail;
    }

    static SimpleContext root(TimeSource time) {
        Objects.requireNonNull(time, "timeSource must not be null");
        return new SimpleContext(null, ROOT, null, ValueMap.EMPTY, time, null);
    }

    @Override
    @Nullable CancelContext source() {
        return source;
    }

    @Override
    Context visible() {
        return this;
    }

    @Override
    public boolean isDone() {
        CancelContext s = source;
        return s != null && s.isDone();
    }

    @Override
    public @Nullable ContextDoneException err() {
        CancelContext s = source;
        return s == null ? null : s.err();
    }

    @Override
    public @Nullable Throwable cause() {
        CancelContext s = source;
        return s == null ? null : s.cause();
    }

    @Override
    public Optional<Instant> deadline() {
        CancelContext s = source;
        return s == null ? Optional.empty() : s.deadline();
    }

    @Override
    public Optional<Duration> remaining() {
        CancelContext s = source;
        return s == null ? Optional.empty() : s.remaining();
    }

    @Override
    public Registration onDone(Runnable action, Executor executor) {
        CancelContext s = source;
        if (s != null) {
            return s.onDone(action, executor);
        }
        Objects.requireNonNull(action, "action must not be null");
        Objects.requireNonNull(executor, "executor must not be null");
        return new Listener(action, executor, null); // never runs; stop() reports that it stopped it
    }

    @Override
    public CompletionStage<Void> done() {
        CancelContext s = source;
        return s == null ? NEVER : s.done();
    }

    @Override
    void describe(StringBuilder out) {
        switch (kind) {
            case BACKGROUND_KIND -> out.append("Background");
            case TODO_KIND -> out.append("TODO");
            case ROOT -> out.append("Root(").append(time.getClass().getSimpleName()).append(')');
            case WITHOUT_CANCEL -> out.append("WithoutCancel");
            case VALUE -> {
                Key<?> key = (Key<?>) Objects.requireNonNull(detail);
                out.append("WithValue(").append(key.name()).append(", ");
                describeValue(out, values.get(key));
                out.append(')');
            }
            default -> { } // VIEW: prints as its source
        }
    }

    /** Like Go, prints plain data as it is and anything else by its type, so objects' state stays out of logs. */
    private static void describeValue(StringBuilder out, @Nullable Object value) {
        if (value instanceof CharSequence || value instanceof Number || value instanceof Boolean
                || value instanceof Character || value instanceof Enum<?>) {
            out.append(value);
        } else {
            out.append('<').append(value == null ? "null" : value.getClass().getSimpleName()).append('>');
        }
    }
}
