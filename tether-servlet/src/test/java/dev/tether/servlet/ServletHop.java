package dev.tether.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import java.net.URI;
import java.util.EnumSet;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A servlet on loopback behind {@link TetherFilter}, in Jetty's ee10 (Servlet 6) environment, speaking HTTP/1.1 and
 * h2c on a free port of 127.0.0.1.
 */
final class ServletHop implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;

    /** The filter given as an instance; the servlet mapped at /*, async supported. */
    static ServletHop start(Filter filter, HttpServlet servlet) throws Exception {
        return new ServletHop(new FilterHolder(filter), servlet, null);
    }

    /** The filter made by the container from init parameters, as web.xml would. */
    static ServletHop startWithInitParameters(Map<String, String> parameters, HttpServlet servlet) throws Exception {
        FilterHolder holder = new FilterHolder(TetherFilter.class);
        parameters.forEach(holder::setInitParameter);
        return new ServletHop(holder, servlet, null);
    }

    /** With a core handler wrapping the servlet context (e.g. tether-jetty's TetherHandler). */
    static ServletHop startWrapped(Filter filter, HttpServlet servlet,
            java.util.function.Function<Handler, Handler> wrapper) throws Exception {
        return new ServletHop(new FilterHolder(filter), servlet, wrapper);
    }

    private ServletHop(FilterHolder filter, HttpServlet servlet,
            java.util.function.Function<Handler, Handler> wrapper) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("servlet-hop");
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        ServletHolder holder = new ServletHolder(servlet);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/*");
        server.setHandler(wrapper == null ? context : wrapper.apply(context));
        server.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
