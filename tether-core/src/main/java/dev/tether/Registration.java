package dev.tether;

/**
 * A pending action, such as one registered with {@link Context#onDone(Runnable)}, that can still be called off.
 */
@FunctionalInterface
public interface Registration {

    /**
     * Stops the action from running. Returns true if this call stopped it; false if it already ran or started,
     * or was stopped before.
     */
    boolean stop();
}
