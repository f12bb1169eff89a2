package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class DeadlineOriginTest {

    private final Context root = Context.root(ManualTimeSource.create());

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void parseSplitsAtTheFirstSlash() {
        assertEquals(new DeadlineOrigin("gateway", "POST:/checkout/v2"), DeadlineOrigin.parse("gateway/POST:/checkout/v2"));
        assertEquals(new DeadlineOrigin("orders", ""), DeadlineOrigin.parse("orders"));
        assertEquals(new DeadlineOrigin("shop.Checkout", "shop.Checkout/Place"),
                DeadlineOrigin.parse("shop.Checkout/shop.Checkout/Place"));
        assertEquals(new DeadlineOrigin("a", ""), DeadlineOrigin.parse("a/"));
    }

    @Test
    void headerValueRoundTrips() {
        for (String value : new String[] {"gateway/POST:/checkout", "orders", "x/y@z:1", "svc//leading-slash"}) {
            assertEquals(value, DeadlineOrigin.parse(value).headerValue());
        }
        assertEquals("gateway/checkout", new DeadlineOrigin("gateway", "checkout").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/checkout", "gate way/x", "gateway/check out", "gw\r\nx-evil: 1/op", "gw/op\r\nSet-Cookie: a=b",
        "gw/op\n", "gw\t/op", "gw\"/op", "gw/\"op\"", "gatewäy/op", "gw/op;reason=x", "gw/op,other", "gw/(op)"})
    void parseRejectsAnythingOutsideTheCharacterClasses(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeadlineOrigin.parse(value));

        assertTrue(e.getMessage().startsWith("service: ") || e.getMessage().startsWith("operation: "), e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20 && c < 0x7f), "message shows hostile chars by code");
    }

    @Test
    void lengthsAreBoundedAndMegabyteValuesRejectedUnread() {
        assertEquals(64, new DeadlineOrigin("s".repeat(64), "o".repeat(128)).service().length());
        assertEquals("service: 65 characters (expected: at most 64)",
                assertThrows(IllegalArgumentException.class, () -> new DeadlineOrigin("s".repeat(65), "")).getMessage());
        assertEquals("operation: 129 characters (expected: at most 128)",
                assertThrows(IllegalArgumentException.class, () -> new DeadlineOrigin("s", "o".repeat(129))).getMessage());
        assertEquals("tether-deadline-origin: 1048576 characters (expected: at most 193)",
                assertThrows(IllegalArgumentException.class,
                        () -> DeadlineOrigin.parse("\r".repeat(1 << 20))).getMessage());
    }

    @Test
    void constructorNamesTheBadCharacter() {
        assertEquals("service: character 0x000d at index 2 (expected: letters, digits or !#$%&'*+-.^_`|~)",
                assertThrows(IllegalArgumentException.class, () -> new DeadlineOrigin("gw\r\n", "")).getMessage());
        assertEquals("service: empty (expected: 1 to 64 token characters)",
                assertThrows(IllegalArgumentException.class, () -> new DeadlineOrigin("", "op")).getMessage());
        assertEquals("service", assertThrows(NullPointerException.class, () -> new DeadlineOrigin(null, "")).getMessage());
    }

    @Test
    void sanitizedReplacesWhatAnOriginMayNotHold() {
        assertEquals(new DeadlineOrigin("my_gateway", "GET_/api/checkout_x_1"),
                DeadlineOrigin.sanitized("my gateway", "GET /api/checkout?x=1"));
        assertEquals(new DeadlineOrigin("unnamed", ""), DeadlineOrigin.sanitized("", ""));
        assertEquals(new DeadlineOrigin("a__b", "c__"), DeadlineOrigin.sanitized("a\r\nb", "c\u00e9\u2028"));
        DeadlineOrigin cut = DeadlineOrigin.sanitized("x".repeat(1000), "/".repeat(1 << 20));
        assertEquals(64, cut.service().length());
        assertEquals(128, cut.operation().length());
    }

    @Test
    void boundOriginIsFoundWhileItsDeadlineIsInForce() {
        DeadlineOrigin gateway = new DeadlineOrigin("gateway", "checkout");
        try (CancellableContext request = root.withTimeout(Duration.ofSeconds(2))) {
            Context ctx = gateway.bindTo(request);

            assertEquals(gateway, DeadlineOrigin.from(ctx));
            assertEquals(gateway, DeadlineOrigin.from(ctx.withCancel()));
            assertEquals(gateway, DeadlineOrigin.from(ctx.withTimeout(Duration.ofSeconds(5))));
        }
    }

    @Test
    void aTightenedDeadlineNoLongerNamesTheCaller() {
        DeadlineOrigin gateway = new DeadlineOrigin("gateway", "checkout");
        try (CancellableContext request = root.withTimeout(Duration.ofSeconds(2))) {
            Context ctx = gateway.bindTo(request);

            CancellableContext tighter = ctx.withTimeout(Duration.ofMillis(50));

            assertNull(DeadlineOrigin.from(tighter));
            DeadlineOrigin local = new DeadlineOrigin("orders", "cache");
            assertEquals(local, DeadlineOrigin.from(local.bindTo(tighter)));
            tighter.cancel();
        }
    }

    @Test
    void noOriginUnlessBound() {
        assertNull(DeadlineOrigin.from(root));
        assertNull(DeadlineOrigin.from(root.withTimeout(Duration.ofSeconds(1))));
    }
}
