package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hand-written JSON writer: structure, escaping, and a strict parse of what it writes. */
class JsonTest {

    @Test
    void writesNestedStructuresWithCommasWhereTheyBelong() {
        String json = new Json().beginObject()
                .member("a", 1)
                .member("b", (String) null)
                .name("c").beginArray().value("x").value(true).beginObject().endObject().beginArray().endArray()
                .endArray()
                .member("d", Instant.parse("2026-11-24T01:02:03.456789Z"))
                .name("e").strings(List.of("p", "q"))
                .name("f").strings(null)
                .endObject().toString();

        assertEquals("{\"a\":1,\"b\":null,\"c\":[\"x\",true,{},[]],\"d\":\"2026-11-24T01:02:03.456Z\","
                + "\"e\":[\"p\",\"q\"],\"f\":null}", json);
        Map<String, Object> doc = StrictJson.object(json);
        assertEquals(Arrays.asList("x", true, Map.of(), List.of()), doc.get("c"));
    }

    @Test
    void escapesEverythingThatCouldBreakJsonOrAnEnclosingPage() {
        String s = "q\" b\\ n\n r\r t\t nul\u0000 us\u001f del\u007f </script> & ls\u2028 ps\u2029 é 😀";

        StringBuilder out = new StringBuilder();
        Json.quote(out, s);
        String quoted = out.toString();

        assertEquals("\"q\\\" b\\\\ n\\n r\\r t\\t nul\\u0000 us\\u001f del\\u007f \\u003c/script\\u003e \\u0026"
                + " ls\\u2028 ps\\u2029 é 😀\"", quoted);
        assertEquals(s, StrictJson.parse(quoted));
    }

    @Test
    void unpairedSurrogatesAreEscapedAndPairsKept() {
        String s = "lone high \ud83d, lone low \ude00, pair \ud83d\ude00, high at end \ud83d";

        StringBuilder out = new StringBuilder();
        Json.quote(out, s);

        assertEquals("\"lone high \\ud83d, lone low \\ude00, pair \ud83d\ude00, high at end \\ud83d\"", out.toString());
        assertEquals(s, StrictJson.parse(out.toString()));
    }

    @Test
    void theTestParserIsStrict() {
        for (String bad : List.of("{\"a\":1,}", "[1,]", "{\"a\":1}x", "\"raw\ncontrol\"", "{\"a\":1,\"a\":2}",
                "\"bad \\x escape\"", "01", "{a:1}")) {
            assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(bad), bad);
        }
    }
}
