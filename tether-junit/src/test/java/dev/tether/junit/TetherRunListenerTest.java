package dev.tether.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.leak.LeakDetector;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherFactory;

/** The whole-run check, run in a Launcher of its own over case classes. */
@Timeout(60)
class TetherRunListenerTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @BeforeEach
    void reset() {
        Leaks.reset();
    }

    @AfterEach
    void releaseLeaks() throws Exception {
        Leaks.releaseAll();
    }

    /** A test that starts a server task under a context it never cancels, and no per-test check. */
    @ExtendWith(OnlyInTestKit.class)
    static class ForgetsItsServer {
        static CancellableContext server;

        @Test
        void startsAServerAndForgetsIt() {
            server = Context.background().withCancel();
            Leaks.started(Thread.ofPlatform().name("forgotten-server").start(server.wrap(Leaks::spin)));
        }
    }

    @ExtendWith(OnlyInTestKit.class)
    static class StopsItsServer {
        @Test
        void startsAndStopsAServer() throws Exception {
            try (CancellableContext server = Context.background().withCancel()) {
                Leaks.started(Thread.ofVirtual().start(server.wrap(Leaks::sleepUntilCancelled)));
            }
        }
    }

    private String runWithListener(Class<?> cases, String... parameters) {
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                .enableTestExecutionListenerAutoRegistration(false)
                .addTestExecutionListeners(new TetherRunListener(out))
                .build());
        var request = request().selectors(selectClass(cases))
                .configurationParameter(OnlyInTestKit.PARAMETER, "true")
                .configurationParameter("tether.leak.waitMillis", "100");
        for (int i = 0; i < parameters.length; i += 2) {
            request = request.configurationParameter(parameters[i], parameters[i + 1]);
        }
        launcher.execute(request.build());
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void reportsTasksStillRunningAtTheEndOfTheRun() {
        String report = runWithListener(ForgetsItsServer.class);

        assertTrue(report.startsWith("Tether: 1 task started through Tether still runs at the end of the test run"
                + " (waited 100 ms):"), report);
        assertTrue(report.contains("[1] 1 task made at dev.tether.junit.TetherRunListenerTest$ForgetsItsServer"
                + ".startsAServerAndForgetsIt("), report);
        assertTrue(report.contains("\"forgotten-server\": RUNNING"), "its context is still live: " + report);
        assertNull(LeakDetector.installed(), "the detector the listener installed is closed at the end of the run");
        ForgetsItsServer.server.cancel();
    }

    @Test
    void aCleanRunPrintsNothing() {
        assertEquals("", runWithListener(StopsItsServer.class));
    }

    @Test
    void runCheckFalseTurnsItOff() {
        assertEquals("", runWithListener(ForgetsItsServer.class, "tether.leak.runCheck", "false"));
        ForgetsItsServer.server.cancel();
    }

    @Test
    void theLauncherFindsTheListenerByServiceLoader() {
        List<String> found = new ArrayList<>();
        for (TestExecutionListener l : ServiceLoader.load(TestExecutionListener.class)) {
            found.add(l.getClass().getName());
        }

        assertTrue(found.contains(TetherRunListener.class.getName()), found::toString);
    }
}
