package dev.tether.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo's order travels as query parameters and as a gRPC message; bad input is refused by name. */
@Timeout(10)
class OrderTest {

    @Test
    void roundTripsThroughTheQueryAndTheWire() {
        Order order = Order.fromQuery("book", "30");

        assertEquals("sku=book&delay=30", order.query());
        assertEquals(order, Order.fromWire(order.wire()));
        assertEquals(new Order("book", 0), Order.fromQuery("book", null));
    }

    @Test
    void badInputIsRefusedWithTheParameterNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromQuery(null, "1"))
                .getMessage().startsWith("sku: missing"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromQuery("Book!", "1"))
                .getMessage().startsWith("sku: 'Book!'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromQuery("book", "61"))
                .getMessage().startsWith("delay: 61"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromQuery("book", "-1"))
                .getMessage().startsWith("delay: '-1'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromWire("book"))
                .getMessage().startsWith("order: 'book'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Order.fromQuery("b\r\nx", "1"))
                .getMessage().contains("'b??x'"), "control characters are not echoed");
    }
}
