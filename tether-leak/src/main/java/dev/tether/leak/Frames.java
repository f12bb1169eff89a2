package dev.tether.leak;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Stack capture, trimming, formatting and classification. A creation stack is captured on the submitting thread
 * with a {@link StackWalker} and trimmed of Tether's and the JDK's frames, so its first frame is the caller's
 * code: the creation site. A current stack keeps the JDK frames on top (they show the blocking call) and drops
 * Tether's frames and the thread's JDK bottom.
 */
final class Frames {

    /** Frames kept of a creation stack. */
    static final int CREATION_FRAMES = 32;
    /** Frames kept of a current stack. */
    static final int CURRENT_FRAMES = 48;

    private static final StackWalker WALKER = StackWalker.getInstance();

    /**
     * Tether's own classes outside the core packages, by top-level class name: their frames are machinery, not
     * the caller's code. (Tests live in the same packages, so the rule is by class, not by package.)
     */
    private static final Set<String> MACHINERY = Set.of(
            "dev.tether.leak.Tracker",
            "dev.tether.leak.Frames",
            "dev.tether.leak.CtxRecord",
            "dev.tether.leak.TaskRecord",
            "dev.tether.leak.LeakDetector",
            "dev.tether.leak.ContextMap",
            "dev.tether.junit.TetherExtension",
            "dev.tether.junit.TetherRunListener");

    private static final String[] JDK_PREFIXES = {"java.", "javax.", "jdk.", "sun.", "com.sun."};

    /** Packages whose native frames mean a thread blocked in I/O (or a DNS look-up), which interrupts don't end. */
    private static final String[] IO_PREFIXES = {
        "java.net.", "java.io.", "java.nio.", "sun.nio.ch.", "sun.nio.fs.", "sun.net.", "jdk.internal.io.",
        "sun.security.ssl."
    };

    private Frames() {}

    /**
     * A creation stack and, for a context, which {@code with…} method made it and whether a {@code TaskGroup}
     * made it for itself.
     */
    record Capture(@Nullable String kind, boolean taskGroup, StackTraceElement[] frames) {
        @Nullable String site() {
            return frames.length == 0 ? null : format(frames[0]);
        }
    }

    /** The current thread's stack, trimmed; called inside the tracker's hooks. */
    static Capture capture() {
        return WALKER.walk(stream -> {
            String kind = null;
            boolean taskGroup = false;
            List<StackTraceElement> kept = new ArrayList<>(8);
            Iterator<StackWalker.StackFrame> frames = stream.iterator();
            while (frames.hasNext() && kept.size() < CREATION_FRAMES) {
                StackWalker.StackFrame frame = frames.next();
                String className = frame.getClassName();
                if (kept.isEmpty() && className.equals("dev.tether.AbstractContext")) {
                    kind = switch (frame.getMethodName()) {
                        case "withCancel" -> "WithCancel";
                        case "withTimeout" -> "WithTimeout";
                        case "withDeadline" -> "WithDeadline";
                        default -> kind;
                    };
                }
                if (kept.isEmpty() && className.equals("dev.tether.TaskGroup")
                        && frame.getMethodName().equals("<init>")) {
                    taskGroup = true;
                }
                if (!internal(className)) {
                    kept.add(frame.toStackTraceElement());
                }
            }
            return new Capture(kind, taskGroup, kept.toArray(StackTraceElement[]::new));
        });
    }

    /** Whether a frame of this class is Tether's machinery or the JDK's. */
    static boolean internal(String className) {
        return jdk(className) || tether(className);
    }

    static boolean jdk(String className) {
        for (String prefix : JDK_PREFIXES) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    static boolean tether(String className) {
        if (!className.startsWith("dev.tether.")) {
            return false;
        }
        int lastDot = className.lastIndexOf('.');
        String pkg = className.substring(0, lastDot);
        if (pkg.equals("dev.tether") || pkg.equals("dev.tether.spi")) {
            return true;
        }
        int dollar = className.indexOf('$', lastDot);
        return MACHINERY.contains(dollar < 0 ? className : className.substring(0, dollar));
    }

    /**
     * A frame as {@code java.base/java.lang.Thread.sleep(Thread.java:509)}: the module is named for the JDK's
     * modules only, and never with a version, so the same code prints the same way on every run.
     */
    static String format(StackTraceElement frame) {
        StringBuilder out = new StringBuilder(96);
        String module = frame.getModuleName();
        if (module != null && (module.startsWith("java.") || module.startsWith("jdk."))) {
            out.append(module).append('/');
        }
        out.append(frame.getClassName()).append('.').append(frame.getMethodName()).append('(');
        if (frame.isNativeMethod()) {
            out.append("Native Method");
        } else if (frame.getFileName() == null) {
            out.append("Unknown Source");
        } else {
            out.append(frame.getFileName());
            if (frame.getLineNumber() >= 0) {
                out.append(':').append(frame.getLineNumber());
            }
        }
        return out.append(')').toString();
    }

    static List<String> format(StackTraceElement @Nullable [] frames) {
        if (frames == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>(frames.length);
        for (StackTraceElement f : frames) {
            out.add(format(f));
        }
        return List.copyOf(out);
    }

    /**
     * A running thread's stack for a report: Tether's frames dropped, the JDK frames below the last frame of
     * other code dropped (thread and pool plumbing), at most {@link #CURRENT_FRAMES}.
     */
    static List<String> trimCurrent(StackTraceElement[] stack) {
        int end = stack.length;
        for (int i = stack.length - 1; i >= 0; i--) {
            if (!internal(stack[i].getClassName())) {
                end = i + 1;
                break;
            }
        }
        List<String> out = new ArrayList<>(Math.min(end, CURRENT_FRAMES + 1));
        int skipped = 0;
        for (int i = 0; i < end; i++) {
            if (tether(stack[i].getClassName())) {
                continue;
            }
            if (out.size() == CURRENT_FRAMES) {
                skipped++;
                continue;
            }
            out.add(format(stack[i]));
        }
        if (skipped > 0) {
            out.add("... " + skipped + " more");
        }
        return List.copyOf(out);
    }

    /** The first frame of code that is neither Tether's nor the JDK's, else the top frame, else null. */
    static @Nullable String firstOwnFrame(List<String> formatted, StackTraceElement[] stack) {
        for (StackTraceElement f : stack) {
            if (!internal(f.getClassName())) {
                return format(f);
            }
        }
        return formatted.isEmpty() ? null : formatted.get(0);
    }

    /**
     * Why a task still runs, from its thread's state and stack. RUNNABLE in a native I/O frame (or native code of
     * the application's) is a call that interrupts don't reach; RUNNABLE elsewhere is code that does not check for
     * cancellation.
     */
    static Classification classify(boolean contextDone, Thread.State state, StackTraceElement[] stack) {
        if (!contextDone) {
            return Classification.RUNNING;
        }
        return switch (state) {
            case BLOCKED -> Classification.BLOCKED_MONITOR;
            case WAITING, TIMED_WAITING -> Classification.PARKED;
            default -> inBlockingNativeCall(stack)
                    ? Classification.BLOCKED_UNINTERRUPTIBLE
                    : Classification.IGNORING_CANCELLATION;
        };
    }

    static boolean inBlockingNativeCall(StackTraceElement[] stack) {
        if (stack.length == 0 || !stack[0].isNativeMethod()) {
            return false;
        }
        if (!jdk(stack[0].getClassName())) {
            return true; // the application's own native code
        }
        for (int i = 0; i < Math.min(stack.length, 12); i++) {
            String className = stack[i].getClassName();
            for (String prefix : IO_PREFIXES) {
                if (className.startsWith(prefix)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A thread as reports name it: its name, or {@code #id} for an unnamed (typically virtual) thread. */
    static String threadLabel(Thread thread) {
        String name = thread.getName();
        return name.isEmpty() ? "#" + thread.threadId() : name;
    }
}
