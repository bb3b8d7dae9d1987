package dev.mailstack.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicBoolean;

/** Wraps a pooled connection so that close() also gives back the database permit, exactly once. */
final class PermitConnection {
    private PermitConnection() {
    }

    static Connection wrap(Connection target, Runnable release) {
        AtomicBoolean released = new AtomicBoolean();
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                try {
                    target.close();
                } finally {
                    if (released.compareAndSet(false, true)) {
                        release.run();
                    }
                }
                return null;
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[]{Connection.class}, handler);
    }
}
