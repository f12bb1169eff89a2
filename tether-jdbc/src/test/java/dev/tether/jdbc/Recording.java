package dev.tether.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** Test doubles that pass every call through to a real driver and note the calls a test asks about. */
final class Recording {

    private Recording() {
    }

    /** A data source that counts the connections it opens. */
    static DataSource countingConnections(DataSource real, AtomicInteger opened) {
        return proxy(DataSource.class, real, (method, result) -> {
            if (method.getName().equals("getConnection")) {
                opened.incrementAndGet();
            }
            return result;
        });
    }

    /**
     * A data source whose statements note each {@code setQueryTimeout(n)} in {@code calls} as
     * {@code "setQueryTimeout(n)"}, and each statement the driver runs as {@code "execute"}; its connections note
     * {@code "commit"}, {@code "rollback"} and {@code "close"}.
     */
    static DataSource queryTimeouts(DataSource real, List<String> calls) {
        return proxy(DataSource.class, real, (method, result) -> {
            if (result instanceof Connection c) {
                return proxy(Connection.class, c, (m, r) -> {
                    if (List.of("commit", "rollback", "close").contains(m.getName())) {
                        calls.add(m.getName());
                    }
                    if (r instanceof CallableStatement cs) {
                        return recordingStatement(CallableStatement.class, cs, calls);
                    }
                    if (r instanceof PreparedStatement ps) {
                        return recordingStatement(PreparedStatement.class, ps, calls);
                    }
                    if (r instanceof Statement s) {
                        return recordingStatement(Statement.class, s, calls);
                    }
                    return r;
                });
            }
            return result;
        });
    }

    private static <T extends Statement> T recordingStatement(Class<T> type, T real, List<String> calls) {
        return proxy(type, real, new Hook() {
            @Override
            public void before(Method m, Object[] args) {
                if (m.getName().equals("setQueryTimeout")) {
                    calls.add("setQueryTimeout(" + args[0] + ")");
                } else if (m.getName().startsWith("execute")) {
                    calls.add("execute");
                }
            }

            @Override
            public Object after(Method m, Object result) {
                return result;
            }
        });
    }

    /** What a proxy does with a call's result. */
    interface Hook {
        default void before(Method m, Object[] args) {
        }

        Object after(Method m, Object result) throws Exception;
    }

    private static <T> T proxy(Class<T> type, T real, Hook hook) {
        InvocationHandler handler = (proxy, method, args) -> {
            hook.before(method, args);
            Object result;
            try {
                result = method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return hook.after(method, result);
        };
        return type.cast(Proxy.newProxyInstance(Recording.class.getClassLoader(), new Class<?>[] {type}, handler));
    }
}
