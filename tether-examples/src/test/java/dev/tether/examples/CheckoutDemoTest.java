package dev.tether.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's demo keeps working: the hung backend is stopped by the deadline and no thread outlives the request. */
@Timeout(30)
class CheckoutDemoTest {

    @Test
    void hungBackendIsStoppedAtTheDeadlineAndNothingOutlivesTheRequest() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        boolean ok;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            ok = CheckoutDemo.run();
        } finally {
            System.setOut(original);
        }
        String report = captured.toString(StandardCharsets.UTF_8);
        System.out.print(report);

        assertTrue(ok, report);
        assertTrue(report.matches("(?s).*inventory\\s+ok.*"), report);
        assertTrue(report.matches("(?s).*pricing\\s+ok.*"), report);
        assertTrue(report.matches("(?s).*payments\\s+stopped.*DeadlineExceededException.*"), report);
        assertTrue(report.contains("0 of 3 backend threads alive"), report);
    }
}
